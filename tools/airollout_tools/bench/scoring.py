"""What the benchmark scores beyond right and wrong: holds, time to promote, and excess harm.

Harm counts every failed request the canary served, so a healthy canary's background errors
and a shared outage's errors count against a judge that promotes; a judge that never
promotes looks harmless. Excess harm counts only the failures the canary added: its failed
requests beyond what stable's error rate at that moment would have failed on the same
requests. It is scored over scenarios that expect rollback, where it is the cost of being
slow to roll back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from airollout.core.analysis.types import Observation, Version
from airollout.core.judge.types import Action
from airollout_tools.sim.model import SliceStart, version_state
from airollout_tools.sim.scenario import Scenario
from airollout_tools.sim.simulator import (
    ERROR_RATE_METRIC,
    ScenarioResult,
    SimulatedWindow,
    simulate_window,
)


@dataclass(frozen=True, slots=True)
class ScenarioScore:
    """One judge on one scenario, as the table and the JSON's `scenarios` show it."""

    outcome: Action
    right: bool
    strict_right: bool  # the `expect` outcome itself, not one it accepts
    needless_holds: int  # hold verdicts where proceed was right
    windows: int  # verdicts given until the final outcome
    harm: int
    excess_harm: float
    detect_s: float | None


def score_scenario(scenario: Scenario, result: ScenarioResult) -> ScenarioScore:
    expects_proceed = scenario.expect is Action.PROCEED
    holds = sum(verdict.action is Action.HOLD for verdict in result.verdicts)
    expects_rollback = scenario.expect is Action.ROLLBACK
    return ScenarioScore(
        outcome=result.outcome,
        right=result.right,
        strict_right=result.outcome is scenario.expect,
        needless_holds=holds if expects_proceed else 0,
        windows=result.decisions,
        harm=result.harm,
        excess_harm=excess_harm(scenario, result) if expects_rollback else 0.0,
        detect_s=result.detect_s,
    )


def excess_harm(scenario: Scenario, result: ScenarioResult) -> float:
    """The canary's failures beyond stable's error rate on the same requests, never below 0.

    The windows are simulated again from the verdicts' slices: traffic depends only on the
    scenario's seed, the slice and the window, so these are the requests the judge saw.
    """
    history: list[SliceStart] = []
    excess, start_s = 0.0, 0.0
    for verdict in result.verdicts:
        if verdict.window_index == 1:
            history.append(SliceStart(start_s, verdict.weight))
        window = simulate_window(scenario, history, verdict.window_index, start_s)
        excess += window.canary_errors - _failures_at_stable_rate(scenario, history, window)
        start_s = verdict.end_s
    return max(excess, 0.0)


def _failures_at_stable_rate(
    scenario: Scenario, history: Sequence[SliceStart], window: SimulatedWindow
) -> float:
    """Canary requests of each step times stable's error rate at that step."""
    slice_start = history[-1]
    expected = 0.0
    for step in window.observations:
        midpoint_s = slice_start.at_s + step.start_s + step.duration_s / 2
        stable_rate = version_state(scenario, Version.STABLE, midpoint_s, history).behaviour
        expected += _canary_requests(scenario, slice_start, step) * stable_rate.error_rate
    return expected


def _canary_requests(scenario: Scenario, slice_start: SliceStart, step: Observation) -> float:
    """The step's canary requests; where its metrics are hidden, the traffic model's mean."""
    sample = step.canary.get(ERROR_RATE_METRIC)
    if sample is not None and sample.requests is not None:
        return float(sample.requests)
    return scenario.rps * slice_start.weight / 100.0 * step.duration_s
