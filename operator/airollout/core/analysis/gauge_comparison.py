"""Canary against stable for a gauge: an anytime-valid sign test on paired readings.

A gauge has no counts, so there is no rate ratio to test. What its readings do say is how
often, at the same step, the canary reads worse than stable beyond the tolerance. If the
canary is no worse, that happens at most half the time; a mixture of Bernoulli likelihood
ratios over that share is a test martingale whatever the readings' distribution (a
sequential sign test), so its e-value may be read after every window, as the rate tests'
are, and the evidence carries over from window to window and slice to slice.

"Worse" is higher, unless the check bounds only the minimum (throughput, free capacity).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from airollout.core.analysis import sequential
from airollout.core.analysis.types import AnalysisSettings, MetricCheck, Outcome, TestResult

SIGN_TEST = "msprt-sign-gauge"
# The share of paired readings in which the canary is worse: alternatives of each side.
WORSE_SHARES = (0.65, 0.75, 0.85, 0.95)
NOT_WORSE_SHARES = (0.35, 0.25, 0.15, 0.05)
_WORSE_TERMS = tuple((math.log(2 * p), math.log(2 * (1 - p))) for p in WORSE_SHARES)
_NOT_WORSE_TERMS = tuple((math.log(2 * p), math.log(2 * (1 - p))) for p in NOT_WORSE_SHARES)


def higher_is_worse(check: MetricCheck) -> bool:
    return not (check.min is not None and check.max is None)


def start() -> dict[str, Any]:
    return {
        "canary": [0.0, 0.0],  # readings worse than stable's, paired readings seen
        "sums": [0.0, 0.0],  # canary's and stable's readings summed, for the ratio shown
        "worse": [0.0] * len(WORSE_SHARES),
        "not_worse": [0.0] * len(NOT_WORSE_SHARES),
    }


def fold(
    state: dict[str, Any],
    tolerance: float,
    pairs: Sequence[tuple[float, float]],
    higher_worse: bool,
) -> dict[str, Any]:
    """Add a window's (canary, stable) readings taken at the same steps; a new state."""
    worse, seen = state["canary"]
    canary_sum, stable_sum = state["sums"]
    against, towards = list(state["worse"]), list(state["not_worse"])
    for canary, stable in pairs:
        margin = abs(stable) * tolerance
        is_worse = canary > stable + margin if higher_worse else canary < stable - margin
        worse, seen = worse + (1.0 if is_worse else 0.0), seen + 1.0
        canary_sum, stable_sum = canary_sum + canary, stable_sum + stable
        pick = 0 if is_worse else 1
        against = [against[i] + _WORSE_TERMS[i][pick] for i in range(len(against))]
        towards = [towards[i] + _NOT_WORSE_TERMS[i][pick] for i in range(len(towards))]
    return {
        "canary": [worse, seen],
        "sums": [canary_sum, stable_sum],
        "worse": against,
        "not_worse": towards,
    }


def result(
    state: dict[str, Any], settings: AnalysisSettings, name: str, higher_worse: bool
) -> TestResult:
    """The sign test's outcome on everything seen. Its statistic is the canary's mean over
    stable's, its threshold that ratio at the tolerance, as the rate tests show theirs."""
    worse, seen = state["canary"]
    null = 1.0 + settings.tolerance if higher_worse else 1.0 - settings.tolerance
    if seen <= 0.0:
        message = f"No step had a {name} reading from both versions yet."
        return TestResult(SIGN_TEST, Outcome.NO_DATA, None, null, None, message)
    canary_sum, stable_sum = state["sums"]
    ratio = canary_sum / stable_sum if stable_sum != 0.0 else None
    against = sequential.evalue(state["worse"])
    towards = sequential.evalue(state["not_worse"])
    fail_at, pass_at = 1.0 / settings.alpha, 1.0 / settings.proceed_alpha
    counted = f"canary {name} read worse than stable's (beyond {settings.tolerance:.0%}) in "
    counted += f"{worse:.0f} of {seen:.0f} paired readings"
    if against >= fail_at:
        shown = sequential.shown_evalue(against)
        message = f"{counted}: worse more often than not, e-value {shown} >= {fail_at:.3g}."
        return TestResult(SIGN_TEST, Outcome.FAIL, ratio, null, against, message, seen)
    if towards >= pass_at:
        shown = sequential.shown_evalue(towards)
        message = f"{counted}: not worse, e-value {shown} >= {pass_at:.3g}."
        return TestResult(SIGN_TEST, Outcome.PASS, ratio, null, towards, message, seen)
    message = (
        f"{counted}: not yet shown either way (e-value {against:.3g} of {fail_at:.3g}, "
        f"{towards:.3g} of {pass_at:.3g})."
    )
    return TestResult(SIGN_TEST, Outcome.NOT_YET, ratio, null, against, message, seen)
