"""Replays a scenario window by window through a judge, as the format's model says.

Traffic at (slice, window) is drawn from a generator seeded by the scenario seed and those
two indices only, so every judge that reaches the same window sees the same requests,
whatever it decided before (as long as earlier holds did not shift simulated time).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from airollout.core.analysis.types import (
    AnalysisSettings,
    Histogram,
    MetricCheck,
    Observation,
    Sample,
    Version,
)
from airollout.core.judge.types import Action, DecisionContext, Judge
from airollout.core.resource.kinds import MetricKind
from airollout_tools.sim.buckets import bucket_edges
from airollout_tools.sim.model import (
    SliceStart,
    VersionState,
    first_fault_s,
    lognormal_sigma,
    version_state,
)
from airollout_tools.sim.scenario import Scenario

MAX_WINDOWS_PER_SLICE = 3
ERROR_RATE_METRIC = "error-rate"
LATENCY_METRIC = "latency-p99"
_VERSION_STREAM = {Version.CANARY: 0, Version.STABLE: 1}


@dataclass(frozen=True, slots=True)
class WindowVerdict:
    """One verdict a judge gave during a replay."""

    slice_index: int
    weight: int
    window_index: int
    end_s: float
    action: Action
    reasoning: str


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """How one judge did on one scenario."""

    scenario: str
    judge: str
    expect: Action
    outcome: Action
    right: bool
    fault_s: float | None  # first fault, simulated seconds since the rollout started
    detect_s: float | None  # from the first fault to the rollback verdict
    harm: int  # failed requests the canary served before the final verdict
    decisions: int
    judge_wall_s: float  # wall time spent inside judge.decide
    end_s: float
    verdicts: tuple[WindowVerdict, ...]


@dataclass(frozen=True, slots=True)
class SimulatedWindow:
    observations: tuple[Observation, ...]
    canary_errors: int


def analysis_settings(scenario: Scenario) -> AnalysisSettings:
    """The configuration every judge gets: the scenario's bounds, both compared to stable."""
    return AnalysisSettings(
        metrics=(
            MetricCheck(
                name=ERROR_RATE_METRIC,
                kind=MetricKind.ERROR_RATE,
                max=scenario.bounds.error_rate,
                compare_baseline=True,
            ),
            MetricCheck(
                name=LATENCY_METRIC,
                kind=MetricKind.LATENCY,
                max=scenario.bounds.latency_p99_ms,
                quantile=0.99,
                compare_baseline=True,
                seconds_per_unit=0.001,  # the scenarios give latency in milliseconds
            ),
        ),
        warmup_s=scenario.warmup_s,
    )


def simulate_window(
    scenario: Scenario,
    history: Sequence[SliceStart],
    window_index: int,
    window_start_s: float,
) -> SimulatedWindow:
    """The observations of one window at the current slice (the last entry of `history`).

    `window_index` counts from 1 at this slice; observation times are measured from the
    slice's traffic change so a judge can leave out the warmup.
    """
    slice_start = history[-1]
    rng = np.random.default_rng([scenario.seed, len(history) - 1, window_index])
    edges = bucket_edges([scenario.bounds.latency_p99_ms])
    observations = []
    canary_errors = 0
    for step_start_s, step_s in _steps(scenario.window_s, scenario.step_s):
        midpoint_s = window_start_s + step_start_s + step_s / 2
        samples = {}
        for version in (Version.CANARY, Version.STABLE):
            share = _share(version, slice_start.weight)
            state = version_state(scenario, version, midpoint_s, history)
            requests, errors, counts = _draw(rng, state, scenario.rps * share * step_s, edges)
            if version is Version.CANARY:
                canary_errors += errors
            samples[version] = _samples(state, requests, errors, Histogram(edges, counts))
        observations.append(
            Observation(
                start_s=window_start_s + step_start_s - slice_start.at_s,
                duration_s=step_s,
                canary=samples[Version.CANARY],
                stable=samples[Version.STABLE],
            )
        )
    return SimulatedWindow(tuple(observations), canary_errors)


def _steps(window_s: float, step_s: float) -> list[tuple[float, float]]:
    """(offset, length) of each step; a window that is not a multiple ends with a short step."""
    count = math.ceil(window_s / step_s - 1e-9)
    return [(i * step_s, min(step_s, window_s - i * step_s)) for i in range(count)]


def _share(version: Version, weight: int) -> float:
    canary_share = weight / 100.0
    return canary_share if version is Version.CANARY else 1.0 - canary_share


def _draw(
    rng: np.random.Generator, state: VersionState, mean_requests: float, edges: tuple[float, ...]
) -> tuple[int, int, tuple[float, ...]]:
    """Requests, failures and latency bucket counts of one version over one step.

    Drawn even when the version's metrics are missing, so the random stream (and thus the
    traffic every judge sees) does not depend on which metrics are visible.
    """
    behaviour = state.behaviour
    requests = int(rng.poisson(mean_requests))
    errors = int(rng.binomial(requests, behaviour.error_rate))
    counts = rng.multinomial(requests, _bucket_probabilities(state, edges))
    return requests, errors, tuple(float(count) for count in counts)


def _bucket_probabilities(state: VersionState, edges: tuple[float, ...]) -> np.ndarray:
    behaviour = state.behaviour
    finite = np.asarray(edges[:-1], dtype=float)
    sigma = lognormal_sigma(behaviour)
    log_ratio = np.log(finite) - math.log(behaviour.latency_p50_ms)
    # A zero sigma (p99 == p50) puts every request in the median's bucket.
    below = (log_ratio >= 0).astype(float) if sigma <= 0 else ndtr(log_ratio / sigma)
    probabilities = np.clip(np.diff(np.append(below, 1.0), prepend=0.0), 0.0, None)
    normalised: np.ndarray = probabilities / probabilities.sum()
    return normalised


def _samples(
    state: VersionState, requests: int, errors: int, histogram: Histogram
) -> dict[str, Sample]:
    if state.missing:
        return {ERROR_RATE_METRIC: Sample(), LATENCY_METRIC: Sample()}
    return {
        ERROR_RATE_METRIC: Sample(requests=float(requests), errors=float(errors)),
        LATENCY_METRIC: Sample(requests=float(requests), histogram=histogram),
    }


def run_scenario(scenario: Scenario, judge: Judge) -> ScenarioResult:
    """Replay one scenario through one judge until rollback, a hold cap, or promotion."""
    settings = analysis_settings(scenario)
    state = judge.initial_state(settings)
    history: list[SliceStart] = []
    verdicts: list[WindowVerdict] = []
    now_s, harm, judge_wall_s = 0.0, 0, 0.0
    outcome = Action.PROCEED
    for slice_index, weight in enumerate(scenario.slices):
        history.append(SliceStart(now_s, weight))
        for window_index in range(1, MAX_WINDOWS_PER_SLICE + 1):
            window = simulate_window(scenario, history, window_index, now_s)
            now_s += scenario.window_s
            harm += window.canary_errors
            context = _context(scenario, slice_index, weight, window_index, now_s)
            started = time.perf_counter()
            verdict, state = judge.decide(settings, state, context, window.observations)
            judge_wall_s += time.perf_counter() - started
            verdicts.append(
                WindowVerdict(
                    slice_index, weight, window_index, now_s, verdict.action, verdict.reasoning
                )
            )
            if verdict.action is not Action.HOLD:
                break
        if verdict.action is not Action.PROCEED:
            outcome = verdict.action
            break
    return _result(scenario, judge.name, outcome, history, verdicts, harm, judge_wall_s, now_s)


def _context(
    scenario: Scenario, slice_index: int, weight: int, window_index: int, now_s: float
) -> DecisionContext:
    return DecisionContext(
        rollout=scenario.name,
        namespace="bench",
        revision="simulated",
        slice_index=slice_index,
        weight=weight,
        window_index=window_index,
        elapsed_s=now_s,
        promotes=slice_index == len(scenario.slices) - 1,  # the simulator judges at 100 % too
        comparison_continues=_stable_serves_later(scenario, slice_index),
    )


def _stable_serves_later(scenario: Scenario, slice_index: int) -> bool:
    """A later slice still sends stable traffic (so it still compares the two versions)."""
    later = scenario.slices[slice_index + 1 :]
    return bool(later) and later[0] < 100


def _result(
    scenario: Scenario,
    judge_name: str,
    outcome: Action,
    history: Sequence[SliceStart],
    verdicts: Sequence[WindowVerdict],
    harm: int,
    judge_wall_s: float,
    end_s: float,
) -> ScenarioResult:
    # A fault that starts in the final window counts: the verdict came after seeing it.
    fault_s = first_fault_s(scenario, history, end_s)
    detected = outcome is Action.ROLLBACK and fault_s is not None and fault_s < end_s
    return ScenarioResult(
        scenario=scenario.name,
        judge=judge_name,
        expect=scenario.expect,
        outcome=outcome,
        right=scenario.is_right(outcome),
        fault_s=fault_s,
        detect_s=end_s - fault_s if detected and fault_s is not None else None,
        harm=harm,
        decisions=len(verdicts),
        judge_wall_s=judge_wall_s,
        end_s=end_s,
        verdicts=tuple(verdicts),
    )
