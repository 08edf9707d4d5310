"""Typed inputs and results of metric analysis; the contract between analysis and judges."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from airollout.core.resource.kinds import MetricKind

# The results below, and Histogram, are named tuples rather than frozen dataclasses: several
# are built at every decision, a frozen dataclass's __init__ sets each field through
# object.__setattr__, and that alone was a sixth of a decision's cost. A tuple is immutable
# all the same.


class Version(StrEnum):
    CANARY = "canary"
    STABLE = "stable"


class Histogram(NamedTuple):
    """Request counts per latency bucket, as Prometheus exports them but not cumulative.

    `edges[i]` is the upper bound (`le`) of bucket i in the metric's unit; the last edge is
    `math.inf`. `counts[i]` is the number of requests that fell in bucket i.
    """

    edges: tuple[float, ...]
    counts: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Sample:
    """What one version showed for one metric over one observation step.

    Any field may be None (missing) or NaN; analysis treats both as no data, never as healthy.
    """

    requests: float | None = None
    errors: float | None = None
    histogram: Histogram | None = None
    value: float | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """One observation step of both versions, keyed by metric name."""

    start_s: float  # seconds since the current slice's traffic change (warmup is measured here)
    duration_s: float
    canary: Mapping[str, Sample]
    stable: Mapping[str, Sample]


@dataclass(frozen=True, slots=True)
class MetricCheck:
    """One metric to judge: an optional hard bound and an optional canary-vs-stable test."""

    name: str
    kind: MetricKind
    max: float | None = None
    min: float | None = None
    quantile: float = 0.99  # for LATENCY: the quantile the bound applies to
    compare_baseline: bool = True
    # For LATENCY: how many seconds one unit of the histogram's edges is, so summaries show
    # milliseconds. Prometheus histograms are in seconds (`..._seconds_bucket`), so a spec's
    # latency bound is too; the simulator counts in milliseconds.
    seconds_per_unit: float = 1.0


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """Everything analysis needs besides the data; the same for every judge in a benchmark."""

    metrics: tuple[MetricCheck, ...]
    warmup_s: float = 15.0
    alpha: float = 0.01  # false-alarm level of the sequential tests, held however often we look
    tolerance: float = 0.1  # relative difference from stable that counts as harmless
    # A proceed needs each metric shown healthy at confidence 1 - proceed_alpha. It is looser
    # than alpha because a proceed is checked again at the next, larger slice, while a
    # rollback is final; too little data stays "not yet" either way.
    proceed_alpha: float = 0.2
    # A proceed that only moves the canary to a larger slice, where the breach tests keep
    # watching it with more traffic, shows each bound within at confidence 1 - step_alpha
    # (the median upper bound), or by no sign of a breach (analysis.bounds): a wrong step
    # costs a window at the next slice, a needless hold a window at this one. The proceed
    # that promotes keeps 1 - proceed_alpha.
    step_alpha: float = 0.5


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_YET = "not-yet"  # too little evidence either way: never read as healthy
    NO_DATA = "no-data"


class TestResult(NamedTuple):
    """One check on one metric, with what a person needs to audit it."""

    test: str  # e.g. "bound", "msprt-rate-ratio"
    outcome: Outcome
    statistic: float | None
    threshold: float | None
    evidence: float | None  # e.g. the e-value (likelihood ratio) of a sequential test
    message: str
    sample: float | None = None  # the requests (or readings) behind `statistic`


# Not a test class, whatever pytest guesses from the name (set here: a class attribute in
# the body would read as a field).
setattr(TestResult, "__test__", False)  # noqa: B010


class MetricResult(NamedTuple):
    name: str
    kind: MetricKind
    canary_value: float | None
    stable_value: float | None
    canary_n: float  # sample size behind canary_value (requests)
    stable_n: float
    bound: TestResult | None
    comparison: TestResult | None
    extra: Mapping[str, float] = MappingProxyType({})
    # The same bound checked on stable: a breach by both is a shared cause, not the canary's.
    stable_bound: TestResult | None = None
