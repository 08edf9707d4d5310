"""Canary against stable: an anytime-valid mixture test on the ratio of their event rates.

Events are errors, or requests slower than a fixed latency edge. The null of the "worse"
test is theta <= 1 + tolerance (a harmless difference); rejecting it at 1/alpha is a
regression. The "not worse" test has theta >= 1 + tolerance as its null; rejecting it at
1/proceed_alpha is the evidence a healthy verdict needs when no bound vouches for the canary.
Evidence accumulates over the whole rollout: steps, windows and slices, whatever the
traffic shares (each step conditions on its own exposures).

Several tests of the same pair of versions (a latency tail counted above two edges) are read
as one: "worse" by the mean of their e-values, which is an e-process whenever every part is
under its null, so the level stays alpha without splitting it; "not worse" by the smallest
e-value, since that claim needs every part, and the smallest is valid as soon as any part's
null holds.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from airollout.core.analysis import sequential
from airollout.core.analysis.types import AnalysisSettings, Outcome, TestResult

# Numbers in messages go through format(x, spec) rather than an f-string's {x:spec}: compiled
# (hack/compile.sh), the latter becomes a str.format call a third slower, at every window.
RATIO_TEST = "msprt-rate-ratio"
# Several ratio tests of one metric read as one (see the module docstring).
MEAN_RATIO_TEST = "msprt-rate-ratio-mean"


def start() -> dict[str, Any]:
    return {
        "canary": [0.0, 0.0],  # events, exposure seen by the test
        "stable": [0.0, 0.0],
        "worse": sequential.WORSE.start(),
        "not_worse": sequential.NOT_WORSE.start(),
    }


def fold(
    state: dict[str, Any],
    tolerance: float,
    canary: tuple[float, float],
    stable: tuple[float, float],
) -> dict[str, Any]:
    """Add a window's (events, exposure) of both versions; returns a new state.

    A window where either version had no exposure says nothing about the ratio (at 100 %
    the stable version serves nothing) and leaves the state as it was.
    """
    if canary[1] <= 0.0 or stable[1] <= 0.0:
        return state
    null_ratio = 1.0 + tolerance
    seen_canary, seen_stable = state["canary"], state["stable"]
    return {
        "canary": [seen_canary[0] + canary[0], seen_canary[1] + canary[1]],
        "stable": [seen_stable[0] + stable[0], seen_stable[1] + stable[1]],
        "worse": sequential.fold_ratio(
            state["worse"], sequential.WORSE, null_ratio, canary, stable
        ),
        "not_worse": sequential.fold_ratio(
            state["not_worse"], sequential.NOT_WORSE, null_ratio, canary, stable
        ),
    }


def estimated_ratio(state: dict[str, Any]) -> float | None:
    """Canary rate over stable rate on everything the test has seen (None: undefined)."""
    (canary_events, canary_n), (stable_events, stable_n) = state["canary"], state["stable"]
    if canary_n <= 0.0 or stable_n <= 0.0:
        return None
    if stable_events <= 0.0:
        return None if canary_events <= 0.0 else float("inf")
    return float((canary_events / canary_n) / (stable_events / stable_n))


def result(state: dict[str, Any], settings: AnalysisSettings, what: str) -> TestResult:
    """The comparison's outcome from its accumulated evidence; `what` names the events."""
    null_ratio = 1.0 + settings.tolerance
    if state["canary"][1] <= 0.0:
        message = f"No window had {what} from both versions yet."
        return TestResult(RATIO_TEST, Outcome.NO_DATA, None, null_ratio, None, message)
    ratio = estimated_ratio(state)
    seen = f"canary/stable ratio of {what} {_shown(ratio)}"
    evidence = (sequential.evalue(state["worse"]), sequential.evalue(state["not_worse"]))
    observed = (seen, _statistic(ratio))
    return _read_pair(RATIO_TEST, evidence, settings, observed, null_ratio, _SINGLE, state)


def combined_result(
    primary: tuple[str, dict[str, Any]],
    other: tuple[str, dict[str, Any] | None],
    settings: AnalysisSettings,
) -> TestResult:
    """One outcome from two tests of the same versions, each `(what it counts, state)`.

    The primary test decides whether there is data at all; an `other` state of None has not
    started and counts as an e-value of 1 both ways. The statistic is the larger ratio.
    """
    (what, state), (other_what, other_state) = primary, other
    null_ratio = 1.0 + settings.tolerance
    if state["canary"][1] <= 0.0:
        message = f"No window had {what} from both versions yet."
        return TestResult(MEAN_RATIO_TEST, Outcome.NO_DATA, None, null_ratio, None, message)
    ratio = estimated_ratio(state)
    against, towards = sequential.evalue(state["worse"]), sequential.evalue(state["not_worse"])
    other_ratio, other_against, other_towards = None, 1.0, 1.0
    if other_state is not None:
        other_ratio = estimated_ratio(other_state)
        other_against = sequential.evalue(other_state["worse"])
        other_towards = sequential.evalue(other_state["not_worse"])
    seen = f"canary/stable ratio of {what} {_shown(ratio)}"
    if other_state is not None:  # the tail test has not started: nothing to say about it
        seen += f" and of {other_what} {_shown(other_ratio)}"
    larger = (
        ratio
        if other_ratio is None or (ratio is not None and ratio >= other_ratio)
        else other_ratio
    )
    observed = (seen, _statistic(larger))
    evidence = ((against + other_against) / 2.0, min(towards, other_towards))
    return _read_pair(MEAN_RATIO_TEST, evidence, settings, observed, null_ratio, _COMBINED, state)


def _shown(ratio: float | None) -> str:
    """A ratio in words: it has no value before either version had such an event, and none
    (an infinite one) while only the canary had."""
    if ratio is None:
        return "not known yet (neither version had one)"
    if ratio == math.inf:
        return "not known yet (only the canary had any)"
    return format(ratio, ".3g")


def _statistic(ratio: float | None) -> float | None:
    """The ratio as a record's figure: a ratio that is not a number yet is left out."""
    return ratio if ratio is not None and ratio != math.inf else None


# How a reading names its e-values (against the null, towards it).
_SINGLE = ("e-value", "e-value")
_COMBINED = ("mean e-value", "smallest e-value")


def _read_pair(
    test: str,
    evidence: tuple[float, float],
    settings: AnalysisSettings,
    observed: tuple[str, float | None],
    threshold: float,
    kinds: tuple[str, str],
    state: dict[str, Any],
) -> TestResult:
    """`evidence` holds the e-values (against the null, towards it) and `kinds` their names;
    `observed` is (what was seen, in words; the statistic) and `threshold` the null value;
    the result's sample is the canary's exposure in `state`."""
    seen, statistic = observed
    sample = state["canary"][1]
    against, towards = evidence
    against_kind, towards_kind = kinds
    fail_at, pass_at = 1.0 / settings.alpha, 1.0 / settings.proceed_alpha
    shown_threshold, shown_fail_at, shown_pass_at = _shown_levels(threshold, fail_at, pass_at)
    if against >= fail_at:
        message = (
            f"{seen} is above {shown_threshold} with {against_kind} "
            f"{sequential.shown_evalue(against)} >= {shown_fail_at}."
        )
        return TestResult(test, Outcome.FAIL, statistic, threshold, against, message, sample)
    if towards >= pass_at:
        message = (
            f"{seen} is below {shown_threshold} with {towards_kind} "
            f"{sequential.shown_evalue(towards)} >= {shown_pass_at}."
        )
        return TestResult(test, Outcome.PASS, statistic, threshold, towards, message, sample)
    message = (
        f"{seen} is not yet shown above or below {shown_threshold} ({against_kind} "
        f"{format(against, '.3g')} of {shown_fail_at}, {towards_kind} "
        f"{format(towards, '.3g')} of {shown_pass_at})."
    )
    return TestResult(test, Outcome.NOT_YET, statistic, threshold, against, message, sample)


@lru_cache(maxsize=256)
def _shown_levels(threshold: float, fail_at: float, pass_at: float) -> tuple[str, str, str]:
    """The null value and both levels as messages show them (fixed per rollout, so
    formatted once rather than at every window)."""
    return f"{threshold:.4g}", f"{fail_at:.3g}", f"{pass_at:.3g}"
