"""The production signal: the service's error rate (and latency) now, and its firing alerts.

Read from Prometheus, the operator's metric provider, with instant queries the user
writes. A query that fails or finds no series is an error, not a zero: a healthy service
whose error counter does not exist yet is written `... or vector(0)`, which says so.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from airollout.adapters.metrics.prometheus import PrometheusProvider
from airollout.adapters.metrics.results import ResultError, scalar_value
from airollout.adapters.reports.common import Reading, ReportError

SHOWN_ALERTS = 10


@dataclasses.dataclass(frozen=True)
class ProductionQueries:
    error_rate: str | None = None  # PromQL giving one number in [0, 1]
    max_error_rate: float | None = None  # the service's bound
    alerts_selector: str | None = None  # label matchers of ALERTS, e.g. service="checkout"
    latency: str | None = None  # PromQL giving one number, seconds (a p99, say)
    max_latency: float | None = None


def alerts_query(selector: str) -> str:
    """`ALERTS{alertstate="firing",<selector>}`; a selector that is already a query is kept."""
    selector = selector.strip()
    if selector.startswith("ALERTS"):
        return selector
    matchers = selector.removeprefix("{").removesuffix("}").strip().strip(",")
    return f'ALERTS{{alertstate="firing"{"," if matchers else ""}{matchers}}}'


def read_production(
    provider: PrometheusProvider, queries: ProductionQueries, now: datetime
) -> Reading:
    if queries.error_rate is None and queries.alerts_selector is None and queries.latency is None:
        raise ReportError(
            "--prometheus: give --error-rate-query, --latency-query or --alerts-selector too"
        )
    for bound, query, flags in (
        (queries.max_error_rate, queries.error_rate, "--max-error-rate needs --error-rate-query"),
        (queries.max_latency, queries.latency, "--max-latency needs --latency-query"),
    ):
        if bound is not None and query is None:
            raise ReportError(f"{flags}: a bound of nothing would be ignored")
    at = now.timestamp()
    signal: dict[str, Any] = {}
    notes = []
    if queries.error_rate is not None:
        rate = _number(provider, "--error-rate-query", queries.error_rate, at)
        if not 0.0 <= rate <= 1.0:
            raise ReportError(f"--error-rate-query: gave {rate}, not a share in [0, 1]")
        signal["error_rate"] = rate
        notes.append(_against("error rate", rate, queries.max_error_rate, "{:.4%}"))
        if queries.max_error_rate is not None:
            signal["error_rate_bound"] = queries.max_error_rate
    if queries.latency is not None:
        latency = _number(provider, "--latency-query", queries.latency, at)
        signal["latency_s"] = latency
        notes.append(_against("latency", latency, queries.max_latency, "{:.3f} s"))
        if queries.max_latency is not None:
            signal["latency_bound_s"] = queries.max_latency
    if queries.alerts_selector is not None:
        names = _firing(provider, alerts_query(queries.alerts_selector), at)
        signal["alerts_firing"] = len(names)
        signal["alerts"] = sorted(set(names))[:SHOWN_ALERTS]
        shown = f": {', '.join(sorted(set(names))[:SHOWN_ALERTS])}" if names else ""
        notes.append(f"production: {len(names)} alert(s) firing{shown}")
    return Reading({"production": signal}, tuple(notes))


def _number(provider: PrometheusProvider, flag: str, promql: str, at: float) -> float:
    try:
        return scalar_value(provider.instant_query(promql, at))
    except ResultError as error:
        hint = "; end it with `or vector(0)` if no series means zero" if error.empty else ""
        raise ReportError(f"{flag} {promql!r}: the query {error}{hint}") from None


def _firing(provider: PrometheusProvider, promql: str, at: float) -> list[str]:
    try:
        result = provider.instant_query(promql, at)
    except ResultError as error:
        raise ReportError(f"--alerts-selector {promql!r}: the query {error}") from None
    if not isinstance(result, list):
        raise ReportError(f"--alerts-selector {promql!r}: the query returned no vector")
    return [str((series.get("metric") or {}).get("alertname", "?")) for series in result]


def _against(what: str, value: float, bound: float | None, shown: str) -> str:
    if bound is None:
        return f"production: {what} {shown.format(value)} (no bound given)"
    state = "above" if value > bound else "within"
    return f"production: {what} {shown.format(value)}, {state} its bound {shown.format(bound)}"
