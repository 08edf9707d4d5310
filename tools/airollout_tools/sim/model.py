"""How a scenario's versions behave over simulated time: events applied to the initial behaviour.

Shared by the window simulator and the simulated workload, so both follow one model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from airollout.core.analysis.types import Version
from airollout.core.judge.types import Action
from airollout_tools.sim.scenario import BEHAVIOUR_FIELDS, Behaviour, Event, Scenario

SECONDS_PER_MINUTE = 60.0
# The smallest latency the model serves: keeps the log-normal defined when a ramp shrinks it.
MIN_LATENCY_MS = 0.001


@dataclass(frozen=True, slots=True)
class SliceStart:
    """When the canary's traffic weight changed to `weight` percent."""

    at_s: float
    weight: int


@dataclass(frozen=True, slots=True)
class VersionState:
    behaviour: Behaviour
    missing: bool = False


def weight_reached_at(history: Sequence[SliceStart], weight: float) -> float | None:
    """The first time the canary's weight was at least `weight`, or None if not yet."""
    for start in history:
        if start.weight >= weight:
            return start.at_s
    return None


def event_start_s(event: Event, history: Sequence[SliceStart]) -> float | None:
    if event.from_s is not None:
        return event.from_s
    assert event.from_weight is not None  # the loader guarantees exactly one of the two
    return weight_reached_at(history, event.from_weight)


def is_active(event: Event, at_s: float, history: Sequence[SliceStart]) -> bool:
    start = event_start_s(event, history)
    if start is None or at_s < start:
        return False
    return event.until_s is None or at_s < event.until_s


def version_state(
    scenario: Scenario, version: Version, at_s: float, history: Sequence[SliceStart]
) -> VersionState:
    """The behaviour of one version at simulated time `at_s`, events applied in file order."""
    canary = version is Version.CANARY
    behaviour = scenario.canary if canary else scenario.stable
    missing = False
    for event in scenario.events:
        applies = event.applies_to_canary() if canary else event.applies_to_stable()
        if not applies or not is_active(event, at_s, history):
            continue
        missing = missing or event.missing
        behaviour = replace(behaviour, **dict(event.assign))
        started_s = event_start_s(event, history)
        assert started_s is not None
        minutes = (at_s - started_s) / SECONDS_PER_MINUTE
        ramped = {
            name: getattr(behaviour, name) + rate * minutes for name, rate in event.ramp_per_min
        }
        behaviour = replace(behaviour, **ramped)
    return VersionState(_clamped(behaviour), missing)


def _clamped(behaviour: Behaviour) -> Behaviour:
    p50 = max(behaviour.latency_p50_ms, MIN_LATENCY_MS)
    return Behaviour(
        error_rate=min(max(behaviour.error_rate, 0.0), 1.0),
        latency_p50_ms=p50,
        latency_p99_ms=max(behaviour.latency_p99_ms, p50),
    )


def first_fault_s(
    scenario: Scenario, history: Sequence[SliceStart], until_s: float
) -> float | None:
    """When the canary first became faulty within [0, until_s), or None if it never did.

    A scenario whose right outcome is proceed has no fault by definition. The canary is
    faulty from 0 when it starts worse than stable or beyond a bound; otherwise the fault is
    the earliest canary event that makes it worse than it started (or hides its metrics).
    """
    if scenario.expect is Action.PROCEED:
        return None
    if _starts_bad(scenario):
        return 0.0
    starts = [
        start
        for event in scenario.events
        if event.applies_to_canary() and _worsens(event, scenario.canary)
        for start in [event_start_s(event, history)]
        if start is not None and start < until_s
    ]
    return min(starts, default=None)


def _starts_bad(scenario: Scenario) -> bool:
    canary, stable, bounds = scenario.canary, scenario.stable, scenario.bounds
    worse_than_stable = any(
        getattr(canary, name) > getattr(stable, name) for name in BEHAVIOUR_FIELDS
    )
    beyond_bound = (
        canary.error_rate > bounds.error_rate or canary.latency_p99_ms > bounds.latency_p99_ms
    )
    return worse_than_stable or beyond_bound


def _worsens(event: Event, initial: Behaviour) -> bool:
    if event.missing:
        return True
    raised = any(value > getattr(initial, name) for name, value in event.assign)
    return raised or any(rate > 0 for _, rate in event.ramp_per_min)


def lognormal_sigma(behaviour: Behaviour) -> float:
    """Sigma of the log-normal whose median and 99th percentile are the behaviour's p50 and p99."""
    z99 = 2.3263
    return (math.log(behaviour.latency_p99_ms) - math.log(behaviour.latency_p50_ms)) / z99
