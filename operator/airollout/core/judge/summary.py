"""A verdict's one-line summary: the decision and its main reason, in the units of the spec.

The reasoning paragraph (judge.rules) keeps every statistic and e-value for an audit; the
summary is what a person skimming `kubectl describe` reads first: "canary error rate 5.2 %
(15 of 290 requests) is above the 0.5 % bound". It names only the metrics that decided the
action, shows error rates as percent and latencies in milliseconds (analysis.shown), and
leaves out a figure that is not known yet rather than print a stand-in for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from airollout.core.analysis.shown import count, milliseconds, percent, ratio
from airollout.core.analysis.types import MetricCheck, MetricResult, TestResult
from airollout.core.resource.kinds import MetricKind

# Why a metric called for its action (rules.metric_finding sets it; plain strings keep a
# finding cheap to build at every window).
BREACH = "breach"  # the canary breaches its bound with confidence
SHARED = "shared"  # both versions breach it: a shared cause
WORSE = "worse"  # the comparison shows the canary worse than stable
NO_DATA = "no-data"
LEANING = "leaning"  # evidence of a worse canary is building, not yet shown
HEALTHY = "healthy"  # the bound (or, without one, the comparison) is shown to hold
UNSURE = "unsure"  # not enough evidence either way yet
INFORMATIONAL = "informational"
PODS = "pods"  # the canary's pods (crashes, restarts, readiness), not a metric


class Point(NamedTuple):
    """One deciding metric: why it decided, its results and its check from the spec."""

    basis: str
    metric: MetricResult
    check: MetricCheck


class Brief(NamedTuple):
    """A verdict's summary before it is put into words: the deciding metrics, and every
    metric's check (to tell apart metrics of one kind)."""

    points: tuple[Point, ...]
    checks: tuple[MetricCheck, ...]


def worded(brief: Brief) -> str:
    """The brief as the summary clause."""
    return summarise(brief.points, shared_kinds(brief.checks))


def summarise(points: Sequence[Point], named: frozenset[str] = frozenset()) -> str:
    """The deciding metrics' reasons joined into one clause (no action or traffic share).

    `named` holds the metrics that share their kind with another metric, so their name is
    said ("checkout error rate") where a lone metric is just "error rate".
    """
    missing = [point.check.name for point in points if point.basis == NO_DATA]
    clauses = [_clause(point, point.check.name in named) for point in points]
    clauses = [clause for clause in clauses if clause]
    if missing:  # one clause for every metric without data
        clauses.insert(0, f"no canary data for {_listed(missing, 'and')} in this window")
    unsure = [c.removeprefix(_UNSURE) for c in clauses if c.startswith(_UNSURE)]
    if len(unsure) > 1:  # "not enough traffic yet to show A or B", not the phrase twice
        clauses = [c for c in clauses if not c.startswith(_UNSURE)]
        clauses.insert(0, _UNSURE + _listed(unsure, "or"))
    if not clauses:
        return "its metrics are informational only" if points else "no metric is configured"
    return _listed(clauses, "and")


_UNSURE = "not enough canary traffic yet to show "


def _listed(parts: Sequence[str], conjunction: str) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + f" {conjunction} " + parts[-1]


def shared_kinds(checks: Sequence[MetricCheck]) -> frozenset[str]:
    """The metrics whose kind another metric has too: a summary names those."""
    kinds = [check.kind for check in checks]
    return frozenset(check.name for check in checks if kinds.count(check.kind) > 1)


def _clause(point: Point, say_name: bool) -> str:
    kind, name = point.check.kind, point.check.name
    if kind is MetricKind.ERROR_RATE:
        return _error_clause(point, name if say_name else "error rate")
    if kind is MetricKind.LATENCY:
        short = f"p{point.check.quantile * 100:g}"
        return _latency_clause(point, (name, name) if say_name else (f"{short} latency", short))
    return _gauge_clause(point, name)


def _counted(test: TestResult | None) -> str:
    """ "15 of 290 requests" from a bound's rate and sample; "" when either is not known."""
    if test is None or test.statistic is None or test.sample is None or test.sample <= 0.0:
        return ""
    return f"{count(test.statistic * test.sample)} of {count(test.sample)} requests"


def _error_clause(point: Point, what: str) -> str:
    basis, metric, check = point
    bound, limit = metric.bound, check.max
    shown_limit = percent(limit) if limit is not None else ""
    rate = percent(bound.statistic) if bound is not None and bound.statistic is not None else ""
    counted = _counted(bound)
    if basis == BREACH:
        return f"canary {what} {rate} ({counted}) is above the {shown_limit} bound"
    if basis == SHARED:
        stable = metric.stable_bound
        stable_rate = percent(stable.statistic) if stable and stable.statistic is not None else ""
        figures = f" (canary {rate}, stable {stable_rate})" if rate and stable_rate else ""
        return (
            f"canary and stable both breach the {shown_limit} {what} bound{figures}, "
            "a shared cause that a rollback would not fix"
        )
    if basis == HEALTHY and bound is not None:
        return (
            f"{what} {rate} ({counted.removesuffix(' requests')}) is within the {shown_limit} bound"
        )
    if basis == UNSURE and bound is not None:
        return f"{_UNSURE}{what} within {shown_limit} ({counted or 'no requests'})"
    return _comparison_clause(point, what)


def _latency_clause(point: Point, names: tuple[str, str]) -> str:
    """`names`: the metric as a noun ("p99 latency") and before a figure ("p99 210 ms")."""
    basis, metric, check = point
    what, short = names
    bound, limit = metric.bound, check.max
    unit = check.seconds_per_unit
    shown_limit = milliseconds(limit, unit) if limit is not None else ""
    canary = metric.canary_value
    known = canary is not None and canary == canary and canary != float("inf")
    if basis == BREACH:
        value = f" {milliseconds(canary, unit)}" if known and canary is not None else ""
        slow = ""
        if bound is not None and bound.statistic is not None and bound.sample:
            allowed = percent(1.0 - check.quantile)
            slow = (
                f" ({percent(bound.statistic)} of {count(bound.sample)} requests slower, "
                f"{allowed} allowed)"
            )
        return f"canary {what}{value} is above the {shown_limit} bound{slow}"
    if basis == SHARED:
        return (
            f"canary and stable both breach the {shown_limit} {what} bound, "
            "a shared cause that a rollback would not fix"
        )
    if basis == HEALTHY and bound is not None:
        within = known and canary is not None and limit is not None and canary <= limit
        if within and canary is not None:
            return f"{short} {milliseconds(canary, unit)} is within {shown_limit}"
        return f"{what} is within {shown_limit}"
    if basis == UNSURE and bound is not None:
        sample = f" ({count(bound.sample)} requests)" if bound.sample else " (no requests)"
        return f"{_UNSURE}{what} within {shown_limit}{sample}"
    return _comparison_clause(point, what)


def _comparison_clause(point: Point, what: str) -> str:
    """The reasons a comparison with stable gives (and no data, which any metric may have)."""
    basis, compare = point.basis, point.metric.comparison
    times = compare.statistic if compare is not None else None
    # A latency is compared by its share of slow requests, an error rate by itself.
    if times is not None and point.check.kind is MetricKind.LATENCY:
        measured = f"{ratio(times)} times stable's share of slow requests so far"
    elif times is not None:
        measured = f"{ratio(times)} times stable's so far"
    if basis == WORSE and times is not None:
        return f"canary {what} is worse: {measured}"
    if basis == WORSE:
        return f"canary {what} is worse than stable's"
    if basis == LEANING and times is not None:
        return f"canary {what} looks worse ({measured}), not yet shown"
    if basis == LEANING:
        return f"canary {what} looks worse than stable's, not yet shown"
    if basis == HEALTHY:
        return f"{what} is not worse than stable's"
    if basis == UNSURE:
        return f"not enough data yet to compare the canary's {what} with stable's"
    return ""


def _gauge_clause(point: Point, what: str) -> str:
    basis, metric, check = point
    bound = metric.bound
    mean = f"{bound.statistic:.4g}" if bound is not None and bound.statistic is not None else ""
    if basis == BREACH and bound is not None:
        beyond = f"{bound.threshold:.4g}" if bound.threshold is not None else "its bound"
        runs = f" for {count(bound.evidence)} readings in a row" if bound.evidence else ""
        return f"canary {what} averaged {mean}, beyond {beyond}{runs}"
    if basis == SHARED:
        return f"canary and stable {what} are both beyond its bound, a shared cause"
    if basis == HEALTHY and bound is not None:
        return f"{what} {mean} is within {_gauge_limits(check)}"
    if basis == UNSURE and bound is not None:
        readings = count(bound.sample) if bound.sample is not None else "0"
        return f"too few {what} readings yet to judge ({readings})"
    if basis == INFORMATIONAL:
        return ""
    return _comparison_clause(point, what)


def _gauge_limits(check: MetricCheck) -> str:
    if check.min is not None and check.max is not None:
        return f"{check.min:.4g}..{check.max:.4g}"
    if check.max is not None:
        return f"its maximum {check.max:.4g}"
    if check.min is not None:
        return f"its minimum {check.min:.4g}"
    return "its bounds"
