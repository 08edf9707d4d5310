"""Folding one analysis window into the evidence state and reading every metric's result.

The state is a JSON-serialisable dict kept in the resource's status between windows:

    {"version": 1, "slice": <index>, "metrics": {<name>: {
        "canary_bound": {...}, "stable_bound": {...},   # restart at each slice
        "compare": {...},                               # accumulates over the rollout
        "edge": <latency edge the comparison counts above, or null>,
        "tail_edge": <stable's own quantile edge, latency with a bound, or null>,
        "tail_compare": {...}}}}                        # the comparison at tail_edge

Missing keys read as null, so a state written before the tail comparison existed resumes.

Each window is summed before it is folded: the judge looks only at window ends, and for a
fixed alternative the likelihood ratio of the summed counts equals the product over the
steps, so nothing is lost and each decision stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from airollout.core.analysis import bounds, comparison, gauge_comparison
from airollout.core.analysis.histogram import count_above, edge_at_or_above, quantile, slow_counts
from airollout.core.analysis.shown import milliseconds
from airollout.core.analysis.types import (
    AnalysisSettings,
    Histogram,
    MetricCheck,
    MetricResult,
    Observation,
    Outcome,
    TestResult,
    Version,
)
from airollout.core.analysis.window import (
    LatencyTotals,
    error_totals,
    gauge_pairs,
    gauge_values,
    latency_totals,
    usable,
)
from airollout.core.resource.kinds import MetricKind

STATE_VERSION = 1
Evidence = dict[str, Any]


def initial_state() -> Evidence:
    return {"version": STATE_VERSION, "slice": None, "metrics": {}}


def evaluate_window(
    settings: AnalysisSettings,
    state: Mapping[str, Any],
    slice_index: int,
    window: Sequence[Observation],
    promotes: bool = True,
) -> tuple[tuple[MetricResult, ...], Evidence]:
    """Every metric's result after this window, and the new state (the old one is untouched).

    `promotes`: a proceed now ends the rollout. Otherwise it only moves the canary to a
    larger slice, where the breach tests keep watching it with more traffic, so a bound is
    shown within at the looser level `step_alpha` (see AnalysisSettings), or by no sign of
    a breach (see analysis.bounds)."""
    same_slice = state.get("slice") == slice_index
    observations = usable(window, settings.warmup_s)
    known: Mapping[str, Evidence] = state.get("metrics") or {}
    results: list[MetricResult] = []
    evidence: dict[str, Evidence] = {}
    for check in settings.metrics:
        # Filled in from the start state: the status subresource's merge patch drops every
        # key whose value is null, so a state read back may lack the keys still unset.
        previous = {**_start_metric(), **(known.get(check.name) or {})}
        if not same_slice:
            previous = {**previous, "canary_bound": None, "stable_bound": None}
        result, evidence[check.name] = _EVALUATORS[check.kind](
            check, settings, previous, observations, promotes
        )
        results.append(result)
    return tuple(results), {"version": STATE_VERSION, "slice": slice_index, "metrics": evidence}


def _start_metric() -> Evidence:
    return {
        "canary_bound": None,
        "stable_bound": None,
        "compare": None,
        "edge": None,
        "tail_edge": None,
        "tail_compare": None,
    }


def _no_data(test: TestResult | None) -> TestResult | None:
    """A canary that sent nothing this window has no result this window, whatever came before."""
    if test is None:
        return None
    message = "No usable canary data in this window (missing, not a number, or warmup only)."
    return TestResult(test.test, Outcome.NO_DATA, None, test.threshold, None, message)


def _assemble(
    check: MetricCheck,
    tests: tuple[TestResult | None, TestResult | None, TestResult | None],
    sizes: tuple[float, float],
    values: tuple[float | None, float | None],
) -> MetricResult:
    """The metric's result; a version without data this window gets no-data outcomes."""
    canary_bound, stable_bound, compare = tests
    if sizes[0] <= 0.0:
        canary_bound, compare = _no_data(canary_bound), _no_data(compare)
    if sizes[1] <= 0.0:
        stable_bound = _no_data(stable_bound)
    return MetricResult(
        name=check.name,
        kind=check.kind,
        canary_value=values[0],
        stable_value=values[1],
        canary_n=sizes[0],
        stable_n=sizes[1],
        bound=canary_bound,
        comparison=compare,
        stable_bound=stable_bound,
    )


class _BoundPlan(NamedTuple):
    """One version's bound of a check: its key in the metric's state, its levels, and how its
    results name the rate. Fixed per check and settings, so made once (see `_bound_plans`)."""

    key: str
    levels: bounds.RateLevels
    what: str


@lru_cache(maxsize=256)
def _bound_plans(
    reference: float, what: str, levels: tuple[float, float, float], promotes: bool
) -> tuple[_BoundPlan, _BoundPlan]:
    """The canary's bound, then stable's, each at its breach level (see `_breach_alpha`).

    `levels` is the settings' (alpha, proceed_alpha, step_alpha). Only the canary's bound
    vouches for a proceed, so only its within side depends on whether the proceed promotes."""
    alpha, proceed_alpha, step_alpha = levels
    within_alpha = proceed_alpha if promotes else step_alpha

    def plan(key: str, version: str, shared_cause_level: bool) -> _BoundPlan:
        breach_alpha = _breach_alpha(alpha, proceed_alpha, shared_cause_level)
        levels = bounds.rate_levels(
            reference,
            breach_alpha,
            proceed_alpha if shared_cause_level else within_alpha,
            stepping=not promotes and not shared_cause_level,
        )
        return _BoundPlan(key, levels, version + what)

    return plan("canary_bound", "canary ", False), plan("stable_bound", "stable ", True)


def _levels(settings: AnalysisSettings) -> tuple[float, float, float]:
    return settings.alpha, settings.proceed_alpha, settings.step_alpha


def _breach_alpha(alpha: float, proceed_alpha: float, shared_cause_level: bool) -> float:
    """The level at which a version's breach is shown.

    The canary's breach is a rollback, final, so it needs 1/alpha. Stable's breach only ever
    turns a canary's breach from a rollback into a hold for a person (a shared cause, and only
    while the canary is not shown worse), the reversible side that a proceed's looser level
    also guards, so it is shown at 1/proceed_alpha. With far more traffic than the canary at
    the first slices, stable still needs this: a few slow requests among the canary's few
    dozen can show the canary's breach a window before stable's at the stricter level.
    """
    return proceed_alpha if shared_cause_level else alpha


def _rate_bounds(
    state: Evidence,
    new_state: Evidence,
    readings: tuple[tuple[float, tuple[float, float]], tuple[float, tuple[float, float]]],
    plans: tuple[_BoundPlan, _BoundPlan],
) -> list[TestResult]:
    """Fold (exposure, events) of canary then stable into their bounds; their results.

    The folded states go into `new_state`; no exposure leaves a bound as it was.
    """
    results = []
    for (key, levels, what), (exposure, events) in zip(plans, readings, strict=True):
        folded = bounds.fold_rate(
            state[key] or bounds.start_rate(), exposure, events, levels.reference
        )
        new_state[key] = folded
        pooled = None
        if key == "canary_bound":
            pooled = new_state["canary_pooled"] = bounds.fold_pooled(
                state.get("canary_pooled"), exposure, events[1]
            )
        results.append(bounds.read_rate(folded, levels, what, pooled))
    return results


def _error_rate(
    check: MetricCheck,
    settings: AnalysisSettings,
    state: Evidence,
    window: Sequence[Observation],
    promotes: bool,
) -> tuple[MetricResult, Evidence]:
    canary = error_totals(window, Version.CANARY, check.name)
    stable = error_totals(window, Version.STABLE, check.name)
    new_state = dict(state)
    canary_bound = stable_bound = compare = None
    if check.max is not None:
        readings = (
            (canary.requests, (canary.errors, canary.errors)),
            (stable.requests, (stable.errors, stable.errors)),
        )
        plans = _bound_plans(check.max, "error rate", _levels(settings), promotes)
        canary_bound, stable_bound = _rate_bounds(state, new_state, readings, plans)
    if check.compare_baseline:
        new_state["compare"] = comparison.fold(
            state["compare"] or comparison.start(),
            settings.tolerance,
            (canary.errors, canary.requests),
            (stable.errors, stable.requests),
        )
        compare = comparison.result(new_state["compare"], settings, "error rates")
    result = _assemble(
        check,
        (canary_bound, stable_bound, compare),
        (canary.requests, stable.requests),
        (
            canary.errors / canary.requests if canary.requests > 0 else None,
            stable.errors / stable.requests if stable.requests > 0 else None,
        ),
    )
    return result, new_state


def _latency(
    check: MetricCheck,
    settings: AnalysisSettings,
    state: Evidence,
    window: Sequence[Observation],
    promotes: bool,
) -> tuple[MetricResult, Evidence]:
    canary = latency_totals(window, Version.CANARY, check.name)
    stable = latency_totals(window, Version.STABLE, check.name)
    new_state = dict(state)
    canary_bound = stable_bound = compare = None
    if check.max is not None:
        what = _bound_label(check.max, check.quantile, check.seconds_per_unit)
        readings = (
            (canary.requests, _slow_counts(canary.histogram, check.max)),
            (stable.requests, _slow_counts(stable.histogram, check.max)),
        )
        plans = _bound_plans(1.0 - check.quantile, what, _levels(settings), promotes)
        canary_bound, stable_bound = _rate_bounds(state, new_state, readings, plans)
    if check.compare_baseline:
        compare = _latency_comparison(check, settings, new_state, canary, stable)
    result = _assemble(
        check,
        (canary_bound, stable_bound, compare),
        (canary.requests, stable.requests),
        (
            _quantile_or_none(canary.histogram, check.quantile),
            _quantile_or_none(stable.histogram, check.quantile),
        ),
    )
    return result, new_state


def _slow_counts(histogram: Histogram | None, bound: float) -> tuple[float, float]:
    # Without a histogram the exposure is zero too, so the fold ignores these counts.
    return (0.0, 0.0) if histogram is None else slow_counts(histogram, bound)


def _latency_comparison(
    check: MetricCheck,
    settings: AnalysisSettings,
    new_state: Evidence,
    canary: LatencyTotals,
    stable: LatencyTotals,
) -> TestResult:
    """Fold this window into the latency comparisons held in `new_state`; their result.

    With a bound, slower requests are counted above two edges: the bound's, and stable's own
    q-quantile (the "tail" edge), so a canary whose tail grows but stays under the bound is
    still compared. The tail edge is read from stable's data of an earlier window and its
    test starts the window after, so the choice never depends on the data it is tested on.
    """
    edge = new_state["edge"]
    if edge is None:
        edge = new_state["edge"] = _comparison_edge(check, canary.histogram, stable.histogram)
    compare = new_state["compare"] = _fold_above(
        new_state["compare"] or comparison.start(), edge, settings, canary, stable
    )
    what = _slower_than(edge, check.seconds_per_unit)
    if check.max is None:
        return comparison.result(compare, settings, what)
    tail_edge = new_state.get("tail_edge")
    if tail_edge is None:
        new_state["tail_edge"] = _tail_edge(check, stable.histogram)
        tail_compare = None
    else:
        tail_compare = new_state["tail_compare"] = _fold_above(
            new_state.get("tail_compare") or comparison.start(), tail_edge, settings, canary, stable
        )
    tail_what = _tail_label(tail_edge, check.quantile, check.seconds_per_unit)
    return comparison.combined_result((what, compare), (tail_what, tail_compare), settings)


# The labels are cached: a rollout reads the same bound and edges at every window.
@lru_cache(maxsize=64)
def _bound_label(bound: float, q: float, seconds_per_unit: float) -> str:
    return f"share slower than {milliseconds(bound, seconds_per_unit)} (a p{q * 100:g} bound)"


@lru_cache(maxsize=64)
def _slower_than(edge: float | None, seconds_per_unit: float) -> str:
    if edge is None:  # no histogram has been seen yet to choose an edge from
        return "slow requests"
    return "requests slower than " + milliseconds(edge, seconds_per_unit)


@lru_cache(maxsize=64)
def _tail_label(edge: float | None, q: float, seconds_per_unit: float) -> str:
    if edge is None:
        return f"requests slower than stable's p{q * 100:g}"
    return f"{_slower_than(edge, seconds_per_unit)} (stable's p{q * 100:g})"


def _fold_above(
    compare_state: Evidence,
    edge: float | None,
    settings: AnalysisSettings,
    canary: LatencyTotals,
    stable: LatencyTotals,
) -> Evidence:
    """Fold both versions' requests slower than `edge` into one comparison's state."""
    if edge is None or canary.histogram is None or stable.histogram is None:
        return compare_state
    return comparison.fold(
        compare_state,
        settings.tolerance,
        (count_above(canary.histogram, edge), canary.requests),
        (count_above(stable.histogram, edge), stable.requests),
    )


def _tail_edge(check: MetricCheck, stable: Histogram | None) -> float | None:
    """The edge at or above stable's q-quantile in this window; None until stable has one."""
    if stable is None:
        return None
    stable_quantile = quantile(stable, check.quantile)
    return None if stable_quantile is None else edge_at_or_above(stable.edges, stable_quantile)


def _comparison_edge(
    check: MetricCheck, canary: Histogram | None, stable: Histogram | None
) -> float | None:
    """The edge whose slower requests are compared: the bound's, else stable's own quantile.

    Fixed once chosen, so the test counts the same event throughout the rollout.
    """
    layout = stable or canary
    if layout is None:
        return None
    if check.max is not None:
        edge = edge_at_or_above(layout.edges, check.max)
        if edge is not None:
            return edge
    return _tail_edge(check, stable)


def _quantile_or_none(histogram: Histogram | None, q: float) -> float | None:
    return None if histogram is None else quantile(histogram, q)


def _gauge(
    check: MetricCheck,
    settings: AnalysisSettings,
    state: Evidence,
    window: Sequence[Observation],
    promotes: bool,
) -> tuple[MetricResult, Evidence]:
    canary = gauge_values(window, Version.CANARY, check.name)
    stable = gauge_values(window, Version.STABLE, check.name)
    has_bound = check.max is not None or check.min is not None
    new_state, compare = dict(state), None
    if check.compare_baseline:
        higher_worse = gauge_comparison.higher_is_worse(check)
        new_state["compare"] = gauge_comparison.fold(
            state["compare"] or gauge_comparison.start(),
            settings.tolerance,
            gauge_pairs(window, check.name),
            higher_worse,
        )
        compare = gauge_comparison.result(new_state["compare"], settings, check.name, higher_worse)
    result = MetricResult(
        name=check.name,
        kind=check.kind,
        canary_value=sum(canary) / len(canary) if canary else None,
        stable_value=sum(stable) / len(stable) if stable else None,
        canary_n=float(len(canary)),
        stable_n=float(len(stable)),
        bound=bounds.gauge_result(canary, check.min, check.max, "canary " + check.name)
        if has_bound
        else None,
        comparison=compare,
        stable_bound=bounds.gauge_result(stable, check.min, check.max, "stable " + check.name)
        if has_bound
        else None,
    )
    return result, new_state


_Evaluator = Callable[
    [MetricCheck, AnalysisSettings, Evidence, Sequence[Observation], bool],
    tuple[MetricResult, Evidence],
]
_EVALUATORS: dict[MetricKind, _Evaluator] = {
    MetricKind.ERROR_RATE: _error_rate,
    MetricKind.LATENCY: _latency,
    MetricKind.GAUGE: _gauge,
}
