"""Hard-bound checks with confidence (safety invariant 1): one noisy estimate is not a breach.

A rate bound (errors per request, or the share of requests slower than a latency bound) is
read from the current slice's data in two directions:

- breached: an anytime-valid mixture test of "rate <= bound"; reaching 1/alpha is a breach
  with confidence, and the false-alarm level holds however many windows are looked at;
- within: the one-sided (1 - proceed_alpha) upper confidence bound on the rate is below the
  bound. This side is a plain fixed-sample bound, re-read each window: it only lets the
  rollout go on to a larger slice, where the breach test keeps watching with more traffic,
  and an e-value there would need several times the traffic the scenarios' first slices get.
  A step to a larger slice that is judged again (`RateLevels.stepping`) needs less: no sign
  of a breach, the breach test's e-value below 1 (the data favour the bound over every
  breach it tests) with this slice's rate within the bound. Every canary request is the
  same evidence at any slice, so holding a thin slice buys time, not safety: the safety is
  the breach test, anytime-valid at every slice, and the promotion's upper bound.

The canary's breach is shown at 1/alpha. Stable's is read at 1/proceed_alpha (the caller
passes the level): it only decides whether a canary's breach is a shared cause, which
turns a final rollback into a hold for a person, never into a proceed (see
analysis.evaluate).

Neither yet: "not yet". The counts restart at each traffic change because a bound is about
how the version behaves now, at this load (a canary can be fine at 10 % and fail at 50 %).

A gauge has no sample size, so one reading cannot carry confidence: it fails only when the
window's mean is beyond the bound and so are at least `GAUGE_MIN_STEPS` consecutive steps,
and passes when the mean is inside and at least that many steps were read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from scipy.special import gammaincinv

from airollout.core.analysis import sequential
from airollout.core.analysis.types import AnalysisSettings, Outcome, TestResult

# Numbers in messages go through format(x, spec), as in analysis.comparison (why: there).
RATE_TEST = "bound-anytime"
GAUGE_TEST = "bound-gauge"
GAUGE_MIN_STEPS = 3


def start_rate() -> dict[str, Any]:
    """A rate bound's state before any data: counts and the breach test's log ratios."""
    return {"n": 0.0, "x": 0.0, "x_within": 0.0, "breach": sequential.BREACH.start()}


def fold_rate(
    state: dict[str, Any],
    exposure: float,
    events: tuple[float, float],
    reference: float,
) -> dict[str, Any]:
    """Add a window to a rate bound's state; returns a new state.

    `events` is what each direction counts, (breach, within): the same for errors; for
    latency the requests slower than the edge at or above, and at or below, the bound.
    """
    if exposure <= 0.0:
        return state
    breach_events, within_events = events
    return {
        "n": state["n"] + exposure,
        "x": state["x"] + breach_events,
        "x_within": state["x_within"] + within_events,
        "breach": sequential.fold_rate(
            state["breach"], sequential.BREACH, breach_events, exposure, reference
        ),
    }


@lru_cache(maxsize=4096)
def _upper_events(events: float, confidence: float) -> float:
    """One-sided upper confidence bound on a Poisson mean, given `events` observed."""
    return float(gammaincinv(events + 1.0, confidence))


class RateLevels(NamedTuple):
    """A rate bound's fixed levels and how messages show them: the same at every window of a
    rollout, so built once per check rather than per window (a tuple: cheap to read)."""

    reference: float
    fail_at: float  # the e-value that shows a breach
    confidence: float  # of the upper bound that shows the rate within
    shown_reference: str
    shown_fail_at: str
    shown_confidence: str
    # A proceed only steps to a larger slice judged again: no sign of a breach is enough.
    stepping: bool = False


@lru_cache(maxsize=256)
def rate_levels(
    reference: float, breach_alpha: float, proceed_alpha: float, stepping: bool = False
) -> RateLevels:
    """A breach shown at e-value 1/breach_alpha; within at confidence 1 - proceed_alpha, or
    when `stepping` also by no sign of a breach (see the module docstring)."""
    fail_at, confidence = 1.0 / breach_alpha, 1.0 - proceed_alpha
    return RateLevels(
        reference,
        fail_at,
        confidence,
        f"{reference:.4g}",
        f"{fail_at:.3g}",
        f"{confidence:.0%}",
        stepping,
    )


def rate_result(
    state: dict[str, Any],
    reference: float,
    settings: AnalysisSettings,
    what: str,
    breach_alpha: float | None = None,
) -> TestResult:
    """The bound's outcome from this slice's evidence; `what` names the rate in words.

    A breach is shown at e-value 1/breach_alpha (settings.alpha unless given).
    """
    alpha = settings.alpha if breach_alpha is None else breach_alpha
    return read_rate(state, rate_levels(reference, alpha, settings.proceed_alpha), what)


def fold_pooled(pooled: list[float] | None, exposure: float, events: float) -> list[float]:
    """Add a window to the canary's [requests, events] over every slice so far."""
    if pooled is None:
        return [exposure, events]
    return [pooled[0] + exposure, pooled[1] + events]


def read_rate(
    state: dict[str, Any], levels: RateLevels, what: str, pooled: list[float] | None = None
) -> TestResult:
    """The bound's outcome at levels made once for the check (see `rate_levels`).

    `pooled` holds [requests, events] of this and the earlier slices: the canary's behaviour
    at 10 % is evidence at 25 %, so it may show the rate within the bound when this slice's
    data alone is too thin, as long as this slice's own rate is within it too (a canary that
    degrades under load is not vouched for by its quieter past)."""
    n, x = state["n"], state["x"]
    reference = levels.reference
    if n <= 0.0:
        return TestResult(RATE_TEST, Outcome.NO_DATA, None, reference, None, f"No {what} data.")
    rate = x / n
    breach = sequential.evalue(state["breach"])
    seen = f"{what} {format(rate, '.4g')} over {format(n, '.0f')} requests at this slice"
    reference_shown = levels.shown_reference
    if breach >= levels.fail_at:
        message = (
            f"{seen} is above {reference_shown} with e-value {sequential.shown_evalue(breach)} "
            f">= {levels.shown_fail_at}."
        )
        return TestResult(RATE_TEST, Outcome.FAIL, rate, reference, breach, message, n)
    # The upper bound is above the estimate, so it is only worth computing below the bound.
    below = state["x_within"] < n * reference
    upper = _upper_events(state["x_within"], levels.confidence) / n if below else math.inf
    upper_shown = f"its {levels.shown_confidence} upper bound is {format(upper, '.4g')}"
    if upper < reference:
        message = f"{seen} is below {reference_shown}: {upper_shown}."
        return TestResult(RATE_TEST, Outcome.PASS, rate, reference, breach, message, n)
    if pooled is not None and below and breach < 1.0 and pooled[0] > n:
        pooled_n, pooled_events = pooled
        pooled_upper = _upper_events(pooled_events, levels.confidence) / pooled_n
        if pooled_upper < reference:
            message = (
                f"{seen} is below {reference_shown} with the earlier slices' data: over "
                f"{format(pooled_n, '.0f')} requests its {levels.shown_confidence} upper bound "
                f"is {format(pooled_upper, '.4g')}."
            )
            return TestResult(RATE_TEST, Outcome.PASS, rate, reference, breach, message, n)
    if levels.stepping and below and breach < 1.0:
        message = (
            f"{seen} shows no sign of a breach of {reference_shown} (e-value "
            f"{format(breach, '.3g')}, below 1): enough to step to a larger slice, where the "
            "breach test keeps watching."
        )
        return TestResult(RATE_TEST, Outcome.PASS, rate, reference, breach, message, n)
    message = (
        f"{seen} is not yet shown above {reference_shown} (e-value {format(breach, '.3g')} of "
        f"{levels.shown_fail_at}) nor below it ({upper_shown if below else 'it is not lower'})."
    )
    return TestResult(RATE_TEST, Outcome.NOT_YET, rate, reference, breach, message, n)


def gauge_result(
    values: Sequence[float], low: float | None, high: float | None, what: str
) -> TestResult:
    """A gauge's bound over one window's readings (no sample size, so persistence instead)."""
    if not values:
        return TestResult(GAUGE_TEST, Outcome.NO_DATA, None, high, None, f"No {what} readings.")
    mean = math.fsum(values) / len(values)
    threshold = high if high is not None and mean > high else low

    def outside(value: float) -> bool:
        return (high is not None and value > high) or (low is not None and value < low)

    run = longest_run(values, outside)
    if outside(mean) and run >= GAUGE_MIN_STEPS:
        message = f"{what} averaged {mean:.4g}, beyond {threshold:.4g} for {run} readings in a row."
        return TestResult(
            GAUGE_TEST, Outcome.FAIL, mean, threshold, float(run), message, float(len(values))
        )
    if not outside(mean) and len(values) >= GAUGE_MIN_STEPS:
        message = f"{what} averaged {mean:.4g} over {len(values)} readings, within its bounds."
        return TestResult(
            GAUGE_TEST,
            Outcome.PASS,
            mean,
            threshold,
            float(len(values)),
            message,
            float(len(values)),
        )
    message = f"{what} averaged {mean:.4g} over {len(values)} readings: too few to decide."
    return TestResult(
        GAUGE_TEST, Outcome.NOT_YET, mean, threshold, float(run), message, float(len(values))
    )


def longest_run(values: Sequence[float], outside: Callable[[float], bool]) -> int:
    """The longest stretch of consecutive readings for which `outside` holds."""
    best = current = 0
    for value in values:
        current = current + 1 if outside(value) else 0
        best = max(best, current)
    return best
