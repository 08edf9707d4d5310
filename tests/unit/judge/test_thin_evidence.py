"""Before stable stops serving, the error-rate comparison must have had something to go on:
a relative regression under every bound is otherwise promoted unseen."""

from __future__ import annotations

import pytest

from airollout.analysis.types import (
    AnalysisSettings,
    MetricCheck,
    MetricKind,
    Observation,
    Sample,
)
from airollout.judge.rules import RulesJudge
from airollout.judge.types import Action, DecisionContext, summary_line

pytestmark = pytest.mark.unit

SETTINGS = AnalysisSettings(
    metrics=(MetricCheck("errors", MetricKind.ERROR_RATE, max=0.005),), warmup_s=0.0
)


def verdict_at_50(stable: Sample, promotes: bool) -> tuple[Action, str]:
    canary = Sample(requests=3000, errors=3)  # 0.1 %: well within the 0.5 % bound
    window = [Observation(30.0, 60.0, {"errors": canary}, {"errors": stable})]
    context = DecisionContext("web-v2", "shop", "v2", 2, 50, 1, 60.0, promotes=promotes)
    judge = RulesJudge()
    verdict, _ = judge.decide(SETTINGS, judge.initial_state(SETTINGS), context, window)
    return verdict.action, summary_line(verdict, 50)


def test_a_thin_comparison_holds_the_proceed_that_leaves_stable() -> None:
    # Stable failed 1 of 3000: the canary's 3000 requests would hold one error at its rate.
    action, line = verdict_at_50(Sample(requests=3000, errors=1), promotes=True)

    assert action is Action.HOLD
    assert line == (
        "Hold at 50 %: too few requests yet to compare the canary's error rate with stable's "
        "before 100 %."
    )


def test_a_thin_comparison_does_not_hold_a_step_to_a_watched_slice() -> None:
    action, _ = verdict_at_50(Sample(requests=3000, errors=1), promotes=False)

    assert action is Action.PROCEED


def test_enough_expected_errors_let_the_proceed_through() -> None:
    # 30 of 30000: at stable's rate the canary's requests hold three errors, as they do.
    action, _ = verdict_at_50(Sample(requests=30000, errors=30), promotes=True)

    assert action is Action.PROCEED
