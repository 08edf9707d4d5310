"""Blocks stand whatever the score; tiers follow the thresholds; the cautious side wins."""

from __future__ import annotations

import pytest

from airollout.core.promotion.blocks import BlockRules, BlockRulesError, hard_blocks
from airollout.core.promotion.signals import signals_from_json
from airollout.core.promotion.tiers import (
    Decision,
    Thresholds,
    ThresholdsError,
    decide,
    more_cautious,
)

pytestmark = pytest.mark.unit


def test_the_default_blocks_are_failed_tests_and_fixable_criticals() -> None:
    signals = signals_from_json(
        {
            "tests": {"total": 10, "failed": 2},
            "vulnerabilities": {"critical": 2, "fixable_critical": 1},
        }
    )
    assert hard_blocks(signals) == (
        "2 of 10 tests failed",
        "1 critical vulnerability with a fix available",
    )
    assert hard_blocks(signals_from_json({"vulnerabilities": {"critical": 3}})) == ()


def test_block_rules_are_configurable_and_checked() -> None:
    rules = BlockRules.from_json({"max_failed_tests": None, "max_alerts_firing": 0})
    signals = signals_from_json(
        {"tests": {"total": 10, "failed": 2}, "production": {"alerts_firing": 1}}
    )
    assert hard_blocks(signals, rules) == ("1 alert firing in production (at most 0 allowed)",)
    with pytest.raises(BlockRulesError, match=r"blocks\.max_critical: must be an integer"):
        BlockRules.from_json({"max_critical": -1})
    with pytest.raises(BlockRulesError, match=r"blocks\.risk_tiers: 'huge'"):
        BlockRules.from_json({"risk_tiers": ["huge"]})


@pytest.mark.parametrize(
    ("probability", "blocks", "expected"),
    [
        (0.92, (), Decision.AUTO_PROMOTE),
        (0.919, (), Decision.MANUAL_REVIEW),
        (0.75, (), Decision.MANUAL_REVIEW),
        (0.749, (), Decision.BLOCK),
        (0.999, ("1 of 9 tests failed",), Decision.BLOCK),
    ],
)
def test_decide_by_tier_and_blocks(
    probability: float, blocks: tuple[str, ...], expected: Decision
) -> None:
    assert decide(probability, blocks, Thresholds()) is expected


def test_thresholds_are_checked_and_the_cautious_decision_wins() -> None:
    with pytest.raises(ThresholdsError, match=r"thresholds\.manual_review: 0\.95 is above"):
        Thresholds(auto_promote=0.9, manual_review=0.95)
    with pytest.raises(ThresholdsError, match=r"thresholds\.auto_promote: must be a number"):
        Thresholds.from_json({"auto_promote": 1.5})
    assert more_cautious(Decision.AUTO_PROMOTE, Decision.MANUAL_REVIEW) is Decision.MANUAL_REVIEW
    assert more_cautious(Decision.BLOCK, Decision.AUTO_PROMOTE) is Decision.BLOCK
