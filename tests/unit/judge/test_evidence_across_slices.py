"""What the rules judge carries from one slice of a canary to the next, and what it does not.

A step to a larger slice (judged again) needs no sign of a breach; the promotion needs the
bound shown within, the canary's earlier slices counting. The comparison with stable runs
over the whole rollout, so a canary that leans worse is stepped and rolled back once shown.
The bound's own breach test restarts at each slice: a quiet past never dilutes a breach
under load. A new template starts everything again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from airollout.core.analysis.types import (
    AnalysisSettings,
    MetricCheck,
    MetricResult,
    Observation,
    Outcome,
    Sample,
    TestResult,
)
from airollout.core.judge.rules import RulesJudge, metric_finding
from airollout.core.judge.types import Action, DecisionContext, Verdict
from airollout.core.resource.kinds import MetricKind
from airollout.core.rollout.inputs import Start
from tests.support.rollout_driver import PLAIN_SPEC, Driver

pytestmark = pytest.mark.unit

JUDGE = RulesJudge()
SLICES = (10, 25, 50, 100)
BOUND_ONLY = AnalysisSettings(
    metrics=(MetricCheck("errors", MetricKind.ERROR_RATE, max=0.02, compare_baseline=False),),
    warmup_s=0.0,
)
COMPARED = AnalysisSettings(
    metrics=(MetricCheck("errors", MetricKind.ERROR_RATE, max=0.005),), warmup_s=0.0
)


def window(canary: tuple[float, float], stable: tuple[float, float]) -> list[Observation]:
    """One step of (requests, errors) per version."""
    return [
        Observation(
            start_s=30.0,
            duration_s=60.0,
            canary={"errors": Sample(requests=canary[0], errors=canary[1])},
            stable={"errors": Sample(requests=stable[0], errors=stable[1])},
        )
    ]


def context(slice_index: int, window_index: int = 1) -> DecisionContext:
    # As the operator sees it: the proceed at the last judged slice (50 %) promotes.
    return DecisionContext(
        "r",
        "ns",
        "v2",
        slice_index,
        SLICES[slice_index],
        window_index,
        0.0,
        promotes=slice_index == len(SLICES) - 2,
        comparison_continues=slice_index < len(SLICES) - 2,
    )


def decide(
    settings: AnalysisSettings,
    state: dict[str, Any],
    where: DecisionContext,
    observed: list[Observation],
) -> tuple[Verdict, dict[str, Any]]:
    return JUDGE.decide(settings, state, where, observed)


def test_a_thin_healthy_canary_steps_at_each_first_window_and_is_promoted_on_its_slices() -> None:
    state = JUDGE.initial_state(BOUND_ONLY)
    actions = []
    for slice_index in range(3):
        verdict, state = decide(BOUND_ONLY, state, context(slice_index), window((30, 0), (300, 0)))
        actions.append(verdict.action)

    assert actions == [Action.PROCEED] * 3, "one window per slice"
    alone, _ = decide(
        BOUND_ONLY, JUDGE.initial_state(BOUND_ONLY), context(2), window((30, 0), (300, 0))
    )
    assert alone.action is Action.HOLD, "30 requests alone do not show the bound kept"


def test_a_step_needs_the_slices_own_rate_within_the_bound() -> None:
    # 2 errors in 70 reads above the 2 % bound, though too few to show a breach.
    verdict, _ = decide(
        BOUND_ONLY, JUDGE.initial_state(BOUND_ONLY), context(0), window((70, 2), (700, 5))
    )

    bound = verdict.metrics[0].bound
    assert bound is not None
    assert bound.evidence is not None
    assert bound.evidence < 1.0
    assert verdict.action is Action.HOLD


def test_a_breach_that_shows_only_at_a_later_slice_is_rolled_back_there() -> None:
    state = JUDGE.initial_state(BOUND_ONLY)
    for slice_index in range(2):
        verdict, state = decide(
            BOUND_ONLY, state, context(slice_index), window((3000, 6), (27000, 54))
        )
        assert verdict.action is Action.PROCEED

    # At 50 % the canary fails 5 % of its requests (capacity); the quiet past does not
    # dilute the slice's breach test, which restarts at each slice.
    verdict, _ = decide(BOUND_ONLY, state, context(2), window((6000, 300), (6000, 12)))

    assert verdict.action is Action.ROLLBACK


def _leaning_errors(evidence: float = 8.0) -> MetricResult:
    passing = TestResult("bound-anytime", Outcome.PASS, 0.003, 0.005, 0.2, "below")
    leaning = TestResult("msprt-rate-ratio", Outcome.NOT_YET, 2.5, 1.1, evidence, "leaning")
    return MetricResult("errors", MetricKind.ERROR_RATE, 0.003, 0.001, 5e3, 5e4, passing, leaning)


@pytest.mark.parametrize(("evidence", "action"), [(1.99, Action.PROCEED), (2.0, Action.HOLD)])
def test_data_that_favour_a_worse_canary_two_to_one_hold_the_last_comparison(
    evidence: float, action: Action
) -> None:
    finding = metric_finding(_leaning_errors(evidence), comparison_ends=True)

    assert finding.action is action


def test_a_canary_leaning_worse_is_stepped_while_stable_serves_but_not_past_that() -> None:
    stepped = metric_finding(_leaning_errors(), comparison_ends=False)
    last_comparison = metric_finding(_leaning_errors(), comparison_ends=True)

    assert stepped.action is Action.PROCEED
    assert last_comparison.action is Action.HOLD


def test_the_comparison_carries_across_slices_and_rolls_back_a_relative_regression() -> None:
    # Canary 0.3 % against stable 0.08 %: under the 0.5 % bound, four times stable's rate.
    state = JUDGE.initial_state(COMPARED)
    actions = []
    for slice_index, weight in enumerate(SLICES[:3]):
        canary_n, stable_n = 300.0 * weight, 300.0 * (100 - weight)
        for window_index in (1, 2, 3):
            observed = window((canary_n, canary_n * 0.003), (stable_n, stable_n * 0.0008))
            verdict, state = decide(COMPARED, state, context(slice_index, window_index), observed)
            actions.append(verdict.action)
            if verdict.action is not Action.HOLD:
                break
        if verdict.action is not Action.PROCEED:
            break

    assert actions[-1] is Action.ROLLBACK
    assert Action.PROCEED in actions, "stepped while the comparison had not decided"
    comparison = verdict.metrics[0].comparison
    assert comparison is not None
    assert comparison.outcome is Outcome.FAIL


def test_a_new_template_drops_the_carried_evidence() -> None:
    state = JUDGE.initial_state(BOUND_ONLY)
    for slice_index in range(2):
        _, state = decide(BOUND_ONLY, state, context(slice_index), window((30, 0), (300, 0)))
    carried, _ = decide(BOUND_ONLY, state, context(2), window((30, 0), (300, 0)))
    assert carried.action is Action.PROCEED

    v1 = replace(PLAIN_SPEC, template_hash="aaaa")
    driver = Driver(spec=v1).start_progressing()
    driver.status = driver.status.model_copy(update={"evidence": state})
    driver.spec = replace(v1, generation=2, template_hash="bbbb")
    driver.send(Start())

    restarted, _ = decide(
        BOUND_ONLY, dict(driver.status.evidence), context(2), window((30, 0), (300, 0))
    )
    assert restarted.action is Action.HOLD, "the new version's 30 requests stand alone"
