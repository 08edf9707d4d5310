"""Canary against stable: an anytime-valid mixture test on the ratio of their event rates.

Events are errors, or requests slower than a fixed latency edge. The null of the "worse"
test is theta <= 1 + tolerance (a harmless difference); rejecting it at 1/alpha is a
regression. The "not worse" test has theta >= 1 + tolerance as its null; rejecting it at
1/proceed_alpha is the evidence a healthy verdict needs when no bound vouches for the canary.
Evidence accumulates over the whole rollout: steps, windows and slices, whatever the
traffic shares (each step conditions on its own exposures).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airollout.analysis import sequential
from airollout.analysis.types import AnalysisSettings, Outcome, TestResult

RATIO_TEST = "msprt-rate-ratio"


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
    shown = "undefined (no events yet)" if ratio is None else f"{ratio:.3g}"
    seen = f"canary/stable ratio of {what} {shown}"
    statistic = None if ratio is None else min(ratio, 1e300)
    return _read_pair(
        RATIO_TEST, state["worse"], state["not_worse"], settings, (seen, statistic), null_ratio
    )


def _read_pair(
    test: str,
    fail_log_ratios: Sequence[float],
    pass_log_ratios: Sequence[float],
    settings: AnalysisSettings,
    observed: tuple[str, float | None],
    threshold: float,
) -> TestResult:
    """`observed` is (what was seen, in words; the statistic) and `threshold` the null value."""
    seen, statistic = observed
    against = sequential.evalue(fail_log_ratios)
    fail_at = 1.0 / settings.alpha
    if against >= fail_at:
        message = f"{seen} is above {threshold:.4g} with e-value {against:.3g} >= {fail_at:.3g}."
        return TestResult(test, Outcome.FAIL, statistic, threshold, against, message)
    towards = sequential.evalue(pass_log_ratios)
    pass_at = 1.0 / settings.proceed_alpha
    if towards >= pass_at:
        message = f"{seen} is below {threshold:.4g} with e-value {towards:.3g} >= {pass_at:.3g}."
        return TestResult(test, Outcome.PASS, statistic, threshold, towards, message)
    message = (
        f"{seen} is not yet shown above or below {threshold:.4g} "
        f"(e-values {against:.3g} of {fail_at:.3g} and {towards:.3g} of {pass_at:.3g})."
    )
    return TestResult(test, Outcome.NOT_YET, statistic, threshold, against, message)
