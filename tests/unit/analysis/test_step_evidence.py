"""A proceed to a slice that is watched again needs less than the proceed that promotes,
and the canary's earlier slices count as evidence that its rate is within a bound."""

from __future__ import annotations

from typing import Any

import pytest

from airollout.core.analysis.evaluate import evaluate_window, initial_state
from airollout.core.analysis.types import (
    AnalysisSettings,
    MetricCheck,
    Observation,
    Outcome,
    Sample,
    TestResult,
)
from airollout.core.resource.kinds import MetricKind
from airollout.core.resource.status import AIRolloutStatus
from airollout.core.rollout.judge_input import decision_context
from tests.support.rollout_driver import PLAIN_SPEC

pytestmark = pytest.mark.unit

SETTINGS = AnalysisSettings(
    metrics=(MetricCheck("errors", MetricKind.ERROR_RATE, max=0.005, compare_baseline=False),),
    warmup_s=0.0,
)


def window(requests: float, errors: float) -> list[Observation]:
    sample = {"errors": Sample(requests=requests, errors=errors)}
    return [Observation(start_s=30.0, duration_s=60.0, canary=sample, stable=sample)]


def bound_outcome(
    state: dict[str, Any], slice_index: int, observed: list[Observation], promotes: bool
) -> tuple[TestResult, dict[str, Any]]:
    results, new_state = evaluate_window(SETTINGS, state, slice_index, observed, promotes)
    bound = results[0].bound
    assert bound is not None
    return bound, new_state


def test_one_error_in_436_requests_steps_up_but_does_not_promote() -> None:
    stepping, _ = bound_outcome(initial_state(), 0, window(436, 1), promotes=False)
    promoting, _ = bound_outcome(initial_state(), 0, window(436, 1), promotes=True)

    assert stepping.outcome is Outcome.PASS
    assert "50% upper bound" in stepping.message
    assert promoting.outcome is Outcome.NOT_YET


def test_the_earlier_slices_show_a_thin_slice_within_the_bound() -> None:
    # At the promoting proceed, which needs the 80 % upper bound (a step needs less: below).
    _, after_first = bound_outcome(initial_state(), 0, window(2000, 0), promotes=False)

    alone, _ = bound_outcome(initial_state(), 1, window(250, 1), promotes=True)
    pooled, _ = bound_outcome(after_first, 1, window(250, 1), promotes=True)

    assert alone.outcome is Outcome.NOT_YET
    assert pooled.outcome is Outcome.PASS
    assert "earlier slices" in pooled.message
    assert pooled.sample == 250, "the slice's own requests are what the result reports"


def test_a_quiet_past_does_not_vouch_for_a_slice_whose_own_rate_is_above_the_bound() -> None:
    _, after_first = bound_outcome(initial_state(), 0, window(20000, 0), promotes=False)

    now, _ = bound_outcome(after_first, 1, window(200, 2), promotes=False)

    assert now.outcome is Outcome.NOT_YET


def test_a_confident_breach_fails_whatever_the_level_of_a_proceed() -> None:
    for promotes in (False, True):
        breach, _ = bound_outcome(initial_state(), 0, window(290, 15), promotes=promotes)
        assert breach.outcome is Outcome.FAIL


@pytest.mark.parametrize(("slice_index", "promotes"), [(0, False), (1, False), (2, True)])
def test_only_a_proceed_into_the_last_slice_promotes(slice_index: int, promotes: bool) -> None:
    assert PLAIN_SPEC.slices == (10, 25, 50, 100)
    status = AIRolloutStatus(slice=slice_index, weight=PLAIN_SPEC.slices[slice_index])

    assert decision_context(PLAIN_SPEC, status).promotes is promotes
