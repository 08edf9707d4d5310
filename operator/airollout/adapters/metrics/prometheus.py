"""The Prometheus metric provider: one instant query per version, metric and query field.

Reading never raises (safety invariant 2): every failure leaves the field it was reading
None and adds one sentence to `WindowData.problems`, so the judge holds and the decision
record says why.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from prometheus_client import Histogram as PrometheusHistogram
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from airollout.adapters.metrics import queries, results
from airollout.adapters.metrics.source import WindowData, WindowQuery
from airollout.core.analysis.types import Observation, Sample, Version
from airollout.core.resource.kinds import MetricKind
from airollout.core.resource.spec import MetricSpec

log = logging.getLogger(__name__)

QUERY_SECONDS = PrometheusHistogram(
    "airollout_prometheus_query_seconds",
    "Time of one Prometheus instant query, by outcome (ok, error, empty).",
    ["outcome"],
)

_API_ERROR = re.compile(r"HTTP Status Code (\d+) \((.*)\)\Z", re.DOTALL)
_CAUSED_BY = re.compile(r"Caused by \w+\((.*)\)\)?\Z", re.DOTALL)
_MAX_ERROR_TEXT = 300

SampleFields = dict[str, Any]  # keyword arguments of one Sample, filled query by query
# Queries of one provider in flight at once from its own threads, across every rollout's
# window. Hundreds of windows end in the same second; eight at once queued them for seconds.
QUERY_CONCURRENCY = 24
# Connections kept open to one Prometheus: its query threads plus each window's first query,
# made from a reconcile thread (up to the operator's 64 at once). Fewer (requests' default
# is 10) opens and throws away a connection per query beyond them.
HTTP_CONNECTIONS = 96


class _UnreachableError(Exception):
    """Prometheus did not answer at all; every other query of the window would fail alike."""


@dataclass(frozen=True, slots=True)
class _Fetched:
    """One query's answer, or why there is none; `seconds` when it reached Prometheus."""

    result: Any = None
    error: Exception | None = None
    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class _Read:
    """One query of one metric: the spec field it comes from and where its value goes."""

    field: str  # the MetricSpec field, camelCase as the user wrote it
    query: str | None
    apply: Callable[[Any, SampleFields], None]
    if_empty: str = ""  # a likely cause of an empty result, added to the problem


# Counters with a status label often appear only at the first error, so a healthy version
# has no error series at all. Reading that as zero would also read a typo as healthy, so it
# stays no data; the user decides, and `or vector(0)` is the usual way to say so.
_NO_ERROR_SERIES = (
    "; if the version had no errors yet, its error series may not exist:"
    " end errorQuery with `or vector(0)` to count that as zero"
)


def _set_scalar(name: str) -> Callable[[Any, SampleFields], None]:
    def apply(result: Any, sample: SampleFields) -> None:
        sample[name] = results.scalar_value(result)

    return apply


def _set_histogram(result: Any, sample: SampleFields) -> None:
    histogram = results.histogram_value(result)
    sample["histogram"] = histogram
    sample["requests"] = sum(histogram.counts)  # the +Inf bucket's cumulative count


def _reads(metric: MetricSpec) -> tuple[_Read, ...]:
    if metric.kind is MetricKind.ERROR_RATE:
        return (
            _Read("errorQuery", metric.error_query, _set_scalar("errors"), _NO_ERROR_SERIES),
            _Read("totalQuery", metric.total_query, _set_scalar("requests")),
        )
    if metric.kind is MetricKind.LATENCY:
        return (_Read("bucketsQuery", metric.buckets_query, _set_histogram),)
    return (_Read("query", metric.query, _set_scalar("value")),)


def _planned_reads(
    query: WindowQuery,
) -> Iterator[tuple[Version, MetricSpec, _Read, dict[str, str]]]:
    """Every query of the window in the order they run: canary's first, then stable's."""
    window = queries.prometheus_duration((query.end - query.start).total_seconds())
    for version in (Version.CANARY, Version.STABLE):
        variables = {"namespace": query.namespace, "version": str(version), "window": window}
        if version in query.workloads:
            variables["workload"] = query.workloads[version]
        if query.rollout is not None:
            variables["rollout"] = query.rollout
        if version in query.pod_template_hashes:
            variables["podTemplateHash"] = query.pod_template_hashes[version]
        for metric in query.metrics:
            for read in _reads(metric):
                yield version, metric, read, variables


def _use(read: _Read, answer: _Fetched, sample: SampleFields) -> None:
    """Put the answer into the sample (raising what made it none) and time the query."""
    outcome = "error"
    try:
        if answer.error is not None:
            raise answer.error
        read.apply(answer.result, sample)
        outcome = "ok"
    except results.ResultError as error:
        if error.empty:
            outcome = "empty"
        raise
    finally:
        if answer.seconds is not None:
            QUERY_SECONDS.labels(outcome=outcome).observe(answer.seconds)


def _api_error_text(error: PrometheusApiClientException) -> str:
    """'HTTP 400: <Prometheus's own error>' from the client's 'HTTP Status Code 400 (b'...')'."""
    match = _API_ERROR.match(str(error))
    if match is None:
        return str(error)[:_MAX_ERROR_TEXT]
    status, body_repr = match.groups()
    try:
        body = ast.literal_eval(body_repr)
        text = body.decode(errors="replace")
    except (ValueError, SyntaxError, AttributeError):
        text = body_repr
    # Not Prometheus's JSON (a proxy's error page, say): the text is shown as it came.
    with contextlib.suppress(ValueError, AttributeError):
        text = json.loads(text).get("error") or text
    return f"HTTP {status}: {str(text).strip()[:_MAX_ERROR_TEXT]}"


def _connection_error_text(error: requests.ConnectionError) -> str:
    """The innermost reason of requests' nested 'Max retries exceeded ... Caused by ...'."""
    text = str(error)
    match = _CAUSED_BY.search(text)
    reason = match.group(1) if match else text
    return reason.strip("\"' ")[:_MAX_ERROR_TEXT]


def _without_credentials(address: str) -> str:
    """`address` minus any user:password@, which must not reach status or events."""
    parts = urlsplit(address)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


class PrometheusProvider:
    """Reads windows from the Prometheus HTTP API at `address` (e.g. http://prometheus:9090).

    `timeout_s` bounds each request's connect and each wait for bytes, and is passed to
    Prometheus as the query's evaluation timeout. No retries: a failed read is a hold for
    this window, and the next window asks again, so retrying only delays the decision.
    Window times must be timezone-aware (the query's `time` is their Unix timestamp).
    """

    def __init__(
        self, address: str, timeout_s: float = 5.0, concurrency: int = QUERY_CONCURRENCY
    ) -> None:
        self.address = address.rstrip("/")
        self.shown_address = _without_credentials(self.address)
        self.timeout_s = timeout_s
        session = requests.Session()
        no_retries = Retry(total=0, read=False)
        self._client = PrometheusConnect(
            url=self.address, timeout=timeout_s, retry=no_retries, session=session
        )
        # Mounted after the client's own adapter for the address, which it replaces.
        adapter = HTTPAdapter(max_retries=no_retries, pool_maxsize=HTTP_CONNECTIONS)
        session.mount(self.address, adapter)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="prometheus")

    def read_window(self, query: WindowQuery) -> WindowData:
        fields: defaultdict[tuple[Version, str], SampleFields] = defaultdict(dict)
        problems: list[str] = []
        try:
            self._read_all(query, fields, problems)
        except Exception as error:  # invariant 2 outranks tidiness: a bug here is a hold
            log.exception("reading a window from %s failed", self.shown_address)
            problems.append(f"Reading metrics failed unexpectedly: {error!r}.")
        canary, stable = (
            {metric.name: Sample(**fields[version, metric.name]) for metric in query.metrics}
            for version in (Version.CANARY, Version.STABLE)
        )
        observation = Observation(
            start_s=(query.start - query.slice_started_at).total_seconds(),
            duration_s=(query.end - query.start).total_seconds(),
            canary=canary,
            stable=stable,
        )
        return WindowData(observation=observation, problems=tuple(problems))

    def _read_all(
        self,
        query: WindowQuery,
        fields: defaultdict[tuple[Version, str], SampleFields],
        problems: list[str],
    ) -> None:
        if query.end <= query.start:
            problems.append(f"The window from {query.start} to {query.end} is empty.")
            return
        plan = list(_planned_reads(query))
        at = query.end.timestamp()
        answers = self._fetch_all(plan, at)
        for index, ((version, metric, read, _), answer) in enumerate(
            zip(plan, answers, strict=False)
        ):
            about = f"Metric {metric.name!r} for {version}:"
            try:
                _use(read, answer, fields[version, metric.name])
            except _UnreachableError as error:
                problems.append(
                    f"{about} Prometheus at {self.shown_address} {error};"
                    f" the window's {len(plan) - index - 1} other queries were skipped."
                )
                return
            except results.ResultError as error:
                hint = read.if_empty if error.empty else ""
                problems.append(f"{about} {read.field} {error}{hint}.")
            except queries.TemplateError as error:
                problems.append(f"{about} {read.field} {error}.")

    def _fetch_all(
        self, plan: list[tuple[Version, MetricSpec, _Read, dict[str, str]]], at: float
    ) -> list[_Fetched]:
        """The first query alone, then the others at once: a Prometheus that does not
        answer costs one query (and one timeout), a healthy one about two round trips."""
        if not plan:
            return []
        first = self._fetch(plan[0][2], plan[0][3], at)
        if isinstance(first.error, _UnreachableError):
            return [first]
        rest = self._pool.map(lambda planned: self._fetch(planned[2], planned[3], at), plan[1:])
        return [first, *rest]

    def _fetch(self, read: _Read, variables: dict[str, str], at: float) -> _Fetched:
        if read.query is None:
            return _Fetched(error=results.ResultError("is not set"))
        try:
            promql = queries.render(read.query, variables)
        except queries.TemplateError as error:
            return _Fetched(error=error)
        started = time.monotonic()
        try:
            result = self._query(promql, at)
        except (_UnreachableError, results.ResultError) as error:
            return _Fetched(error=error, seconds=time.monotonic() - started)
        return _Fetched(result=result, seconds=time.monotonic() - started)

    def instant_query(self, promql: str, at: float) -> Any:
        """One query's `data.result` at Unix time `at`; ResultError says why there is none."""
        try:
            return self._query(promql, at)
        except _UnreachableError as error:
            raise results.ResultError(f"Prometheus at {self.shown_address} {error}") from None

    def _query(self, promql: str, at: float) -> Any:
        params = {"time": at, "timeout": queries.prometheus_duration(self.timeout_s)}
        try:
            return self._client.custom_query(promql, params=params)
        except requests.Timeout:
            raise _UnreachableError(f"did not answer within {self.timeout_s:g}s") from None
        except requests.ConnectionError as error:
            reason = _connection_error_text(error)
            raise _UnreachableError(f"could not be reached ({reason})") from None
        except (requests.RequestException, KeyError, TypeError) as error:
            # requests' JSON errors land here too: whatever answered is not a Prometheus API.
            raise _UnreachableError(f"gave no query result ({error!r})") from None
        except PrometheusApiClientException as error:
            raise results.ResultError(f"was rejected ({_api_error_text(error)})") from None
