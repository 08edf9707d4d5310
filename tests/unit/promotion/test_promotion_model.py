"""The default model: transparent (contributions add up), monotonic, missing means 0."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airollout.core.promotion.model import DEFAULT_MODEL, ModelError, PromotionModel, score
from airollout.core.promotion.signals import signals_from_json
from tests.unit.promotion.test_promotion_signals import EXAMPLE

pytestmark = pytest.mark.unit


def _probability(**changes: Any) -> float:
    return score(signals_from_json({**EXAMPLE, **changes})).probability


def test_the_contributions_sum_to_the_logit_of_the_probability() -> None:
    result = score(signals_from_json(EXAMPLE))
    total = math.fsum(c.logit for c in result.contributions)
    assert math.log(result.probability / (1 - result.probability)) == pytest.approx(total)
    assert result.contributions[0].feature == "intercept"
    assert all(c.logit == pytest.approx(c.weight * c.value) for c in result.contributions)


def test_a_clean_typical_artifact_auto_promotes_under_the_default() -> None:
    assert _probability() >= 0.92
    assert _probability(production={"error_rate": 0.02, "alerts_firing": 1}) < 0.75


@given(total=st.integers(1, 5000), failed=st.integers(0, 5000))
def test_more_failed_tests_never_raise_the_score(total: int, failed: int) -> None:
    failed = min(failed, total - 1)
    fewer = _probability(tests={"total": total, "failed": failed})
    more = _probability(tests={"total": total, "failed": failed + 1})
    assert more <= fewer


def test_a_missing_signal_contributes_nothing_and_is_listed() -> None:
    without = {key: value for key, value in EXAMPLE.items() if key != "production"}
    result = score(signals_from_json(without))
    assert "production" in result.missing
    assert not {"error_rate_vs_bound", "alerts_firing"} & {c.feature for c in result.contributions}


def test_the_model_round_trips_and_a_bad_document_names_the_field() -> None:
    assert PromotionModel.from_json(DEFAULT_MODEL.to_json()) == DEFAULT_MODEL
    with pytest.raises(ModelError, match=r"model\.weights\.speed: unknown feature"):
        PromotionModel.from_json({**DEFAULT_MODEL.to_json(), "weights": {"speed": 1.0}})
    with pytest.raises(ModelError, match=r"model\.intercept: must be a finite number"):
        PromotionModel.from_json({**DEFAULT_MODEL.to_json(), "intercept": "high"})
