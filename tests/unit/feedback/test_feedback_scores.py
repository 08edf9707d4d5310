"""Scores of past decisions, checked against values worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from airollout.core.feedback.outcomes import (
    Escape,
    FinishedRollout,
    FullRun,
    LabelledRollout,
    Outcome,
    PlanRecord,
)
from airollout.core.feedback.scores import (
    brier,
    calibration,
    expected_calibration_error,
    judge_scores,
    reliability,
    selection_escapes,
    selection_scores,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_brier_is_the_mean_squared_error() -> None:
    # (0.9-1)^2 + (0.8-0)^2 + (0.3-0)^2 = 0.01 + 0.64 + 0.09 = 0.74; / 3
    assert brier([0.9, 0.8, 0.3], [True, False, False]) == pytest.approx(0.74 / 3)


def test_ece_weighs_each_bins_gap_by_its_count() -> None:
    probabilities = [0.95, 0.95, 0.95, 0.95, 0.15, 0.15]
    events = [True, True, True, False, False, True]
    # bin 9: mean 0.95, rate 0.75, gap 0.2, weight 4/6; bin 1: mean 0.15, rate 0.5, gap 0.35
    expected = 4 / 6 * 0.2 + 2 / 6 * 0.35
    assert expected_calibration_error(probabilities, events) == pytest.approx(expected)


def test_a_perfectly_calibrated_forecast_has_no_calibration_error() -> None:
    events = [True] * 7 + [False] * 3
    assert expected_calibration_error([0.7] * 10, events) == pytest.approx(0.0)


def test_reliability_bins_are_equal_width_and_one_falls_in_the_last() -> None:
    bins = reliability([0.0, 0.05, 0.1, 1.0], [False, False, True, True])
    assert len(bins) == 10
    assert (bins[0].count, bins[0].mean_probability, bins[0].observed_rate) == (2, 0.025, 0.0)
    assert (bins[1].lower, bins[1].upper, bins[1].count) == (0.1, 0.2, 1)
    assert (bins[9].count, bins[9].observed_rate) == (1, 1.0)
    assert bins[5].count == 0
    assert bins[5].mean_probability is None


def test_mismatched_or_empty_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="2 probabilities but 1 outcomes"):
        brier([0.1, 0.2], [True])
    with pytest.raises(ValueError, match="no probabilities"):
        expected_calibration_error([], [])
    with pytest.raises(ValueError, match=r"1\.2 is outside"):
        brier([1.2], [True])


def labelled(outcome: Outcome, score: float | None = None) -> LabelledRollout:
    result = "promoted" if outcome in (Outcome.HEALTHY, Outcome.REGRESSED) else "rolled-back"
    rollout = FinishedRollout("n", "ns", "t", "r", "h", result, T0, score=score)
    return LabelledRollout(rollout, outcome)


def test_judge_accuracy_and_false_rollbacks() -> None:
    items = [
        labelled(Outcome.HEALTHY),
        labelled(Outcome.HEALTHY),
        labelled(Outcome.HEALTHY),
        labelled(Outcome.REGRESSED),
        labelled(Outcome.ROLLED_BACK_BAD),
        labelled(Outcome.FALSE_ROLLBACK),
        labelled(Outcome.FALSE_ROLLBACK),
        labelled(Outcome.ROLLED_BACK_BAD),
    ]
    scores = judge_scores(items)
    assert (scores.labelled, scores.right, scores.accuracy) == (8, 5, 5 / 8)
    assert (scores.promoted, scores.regressed, scores.regression_rate) == (4, 1, 0.25)
    assert (scores.rolled_back, scores.false_rollbacks, scores.false_rollback_rate) == (4, 2, 0.5)


def test_judge_scores_of_nothing_have_no_rates() -> None:
    scores = judge_scores([])
    assert (scores.accuracy, scores.regression_rate, scores.false_rollback_rate) == (None,) * 3


def test_calibration_scores_the_artifact_not_the_verdict() -> None:
    # A false rollback's artifact was good; a regression's was not; unscored ones are skipped.
    items = [
        labelled(Outcome.FALSE_ROLLBACK, 0.6),
        labelled(Outcome.REGRESSED, 0.9),
        labelled(Outcome.HEALTHY),
    ]
    result = calibration(items)
    assert result is not None
    assert result.scored == 2
    assert result.brier == pytest.approx((0.4**2 + 0.9**2) / 2)
    assert result.ece == pytest.approx(0.5 * 0.4 + 0.5 * 0.9)
    assert calibration([labelled(Outcome.HEALTHY)]) is None


def test_selection_escapes_and_the_share_of_plans_that_let_one_through() -> None:
    plans = [
        PlanRecord("r1", frozenset({"a"}), ("x.py",), T0),
        PlanRecord("r2", frozenset({"a", "b"}), ("y.py",), T0 + timedelta(hours=1)),
        PlanRecord("r3", frozenset({"a"}), ("z.py",), T0 + timedelta(hours=2)),
    ]
    runs = [
        FullRun("r1", frozenset({"b", "c"}), T0 + timedelta(days=1)),
        FullRun("r2", frozenset({"b"}), T0 + timedelta(days=1)),
    ]
    found = selection_escapes(plans, runs)
    assert [(e.revision, e.test) for e in found] == [("r1", "b"), ("r1", "c")]
    assert all(isinstance(e, Escape) for e in found)
    scores = selection_scores(plans, found)
    assert (scores.plans, scores.plans_with_escapes, scores.escapes) == (3, 1, 2)
    assert scores.escape_rate == pytest.approx(1 / 3)
