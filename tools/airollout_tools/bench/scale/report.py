"""The pure half of the operator-scale benchmark: percentiles, /proc and /metrics parsing,
the table and the JSON report."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from airollout_tools.bench.scale.settings import (
    OPERATOR_HISTOGRAMS,
    TARGET_P99_S,
    TARGET_ROLLOUTS,
    ScaleSettings,
)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]): always a value that was really measured."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def cpu_seconds_from_stat(stat_text: str, ticks_per_second: float) -> float:
    """User plus system CPU of a process from /proc/<pid>/stat (fields 14 and 15).

    The command name (field 2) is in parentheses and may hold spaces or parentheses, so
    fields are counted from the last ')'.
    """
    after_name = stat_text[stat_text.rindex(")") + 2 :].split()
    # after_name[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(after_name[11]) + int(after_name[12])) / ticks_per_second


def peak_rss_bytes_from_status(status_text: str) -> int:
    """VmHWM (the resident set's high-water mark) from /proc/<pid>/status, in bytes."""
    match = re.search(r"^VmHWM:\s+(\d+)\s+kB$", status_text, re.MULTILINE)
    if match is None:
        raise ValueError("no VmHWM line in the process status")
    return int(match.group(1)) * 1024


def histogram_buckets(metrics_text: str, name: str) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of histogram `name` in Prometheus text, by bound."""
    pattern = re.compile(rf'^{re.escape(name)}_bucket\{{[^}}]*le="([^"]+)"[^}}]*\}} (\S+)$')
    buckets: dict[float, float] = {}
    for line in metrics_text.splitlines():
        match = pattern.match(line)
        if match:
            bound = float(match.group(1))
            buckets[bound] = buckets.get(bound, 0.0) + float(match.group(2))
    return sorted(buckets.items())


def bucket_bound_of_quantile(buckets: Sequence[tuple[float, float]], q: float) -> float | None:
    """The smallest bucket bound that holds at least fraction q of the observations: the
    quantile is at most this. None when the histogram is empty."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    wanted = q * buckets[-1][1]
    return next(bound for bound, count in buckets if count >= wanted)


@dataclass(frozen=True)
class DelaySummary:
    count: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, delays: Sequence[float]) -> DelaySummary:
        peak = max(delays) if delays else math.nan
        return cls(len(delays), percentile(delays, 50), percentile(delays, 99), peak)


@dataclass(frozen=True)
class BucketSummary:
    """A histogram as the operator exports it: how many, and the bucket bounds that hold
    half and 99 % of them (each quantile is at most its bound)."""

    count: float
    p50_at_most: float | None
    p99_at_most: float | None

    @classmethod
    def of(cls, buckets: Sequence[tuple[float, float]]) -> BucketSummary:
        count = buckets[-1][1] if buckets else 0.0
        p50, p99 = bucket_bound_of_quantile(buckets, 0.5), bucket_bound_of_quantile(buckets, 0.99)
        return cls(count, p50, p99)


def operator_histograms(metrics_text: str) -> dict[str, BucketSummary]:
    return {
        name: BucketSummary.of(histogram_buckets(metrics_text, name))
        for name in OPERATOR_HISTOGRAMS
    }


@dataclass(frozen=True)
class SliceReport:
    """What one size N measured."""

    rollouts: int
    succeeded: int
    phases: Mapping[str, int]
    timed_out: bool
    wall_seconds: float  # from creating the rollouts to all of them finished (or time-out)
    recorded: DelaySummary  # window end -> the decision record's time (when judging began)
    seen: DelaySummary  # window end -> the decision seen in status by the watch
    histograms: Mapping[str, BucketSummary]  # the operator's own, read at the end
    unmatched_decisions: int  # decisions whose window the watch never saw open
    cpu_seconds: float  # operator CPU (user + system) while the rollouts ran
    peak_rss_bytes: int
    pinned_cores: tuple[int, ...]
    load_average: tuple[float, float, float]  # of the machine, when the rollouts finished
    # window end -> the next slice's weight seen applied (no router change awaited)
    applied: DelaySummary = DelaySummary(0, math.nan, math.nan, math.nan)

    @property
    def all_succeeded(self) -> bool:
        return self.succeeded == self.rollouts

    @property
    def met_delay_target(self) -> bool:
        return self.seen.count > 0 and self.seen.p99 <= TARGET_P99_S


def seconds_text(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f} s"


def _delay_row(label: str, summary: DelaySummary) -> str:
    figures = f"p50 {seconds_text(summary.p50)}  p99 {seconds_text(summary.p99)}"
    return f"  {label:<36} {figures}  max {seconds_text(summary.max)}  (n={summary.count})"


def render_table(report: SliceReport) -> str:
    cores = ",".join(map(str, report.pinned_cores))
    verdict = "met" if report.met_delay_target else "MISSED"
    phases = ", ".join(f"{phase} {count}" for phase, count in sorted(report.phases.items()))
    lines = [
        f"== {report.rollouts} concurrent AIRollouts (operator pinned to core {cores})",
        f"  {'all succeeded':<36} {'yes' if report.all_succeeded else 'NO'}"
        f" ({report.succeeded}/{report.rollouts}; {phases or 'no status'})"
        + ("  TIMED OUT" if report.timed_out else ""),
        f"  {'wall time to all finished':<36} {report.wall_seconds:.1f} s",
        _delay_row("decision delay, seen in status", report.seen),
        _delay_row("decision delay, record time", report.recorded),
        _delay_row("next weight seen applied", report.applied),
        *(
            _bucket_row(label, report.histograms.get(name))
            for name, label in OPERATOR_HISTOGRAMS.items()
        ),
        f"  {'target: p99 within':<36} {TARGET_P99_S:g} s of the window's end: {verdict}",
        f"  {'operator CPU':<36} {report.cpu_seconds:.1f} s"
        f" ({_utilisation(report):.0%} of one core over the wall time)",
        f"  {'operator peak RSS':<36} {report.peak_rss_bytes / 2**20:.0f} MiB",
        f"  {'target: concurrent rollouts, 1 core':<36} {TARGET_ROLLOUTS}"
        + (f"  (this run: {report.rollouts})" if report.rollouts != TARGET_ROLLOUTS else ""),
        f"  {'machine load average (1/5/15 min)':<36} "
        + " ".join(f"{load:.2f}" for load in report.load_average),
    ]
    if report.unmatched_decisions:
        lines.append(f"  note: {report.unmatched_decisions} decisions had no window seen open")
    return "\n".join(lines)


def _bucket_row(label: str, summary: BucketSummary | None) -> str:
    if summary is None or summary.p99_at_most is None:
        return f"  {label:<36} -"
    bounds = f"p50 <= {summary.p50_at_most:g} s  p99 <= {summary.p99_at_most:g} s"
    return f"  {label:<36} {bounds}  (n={summary.count:.0f})"


def _utilisation(report: SliceReport) -> float:
    return report.cpu_seconds / report.wall_seconds if report.wall_seconds > 0 else 0.0


def report_json(reports: Sequence[SliceReport], settings: ScaleSettings) -> dict[str, Any]:
    def one(report: SliceReport) -> dict[str, Any]:
        fields = asdict(report)
        fields["pinned_cores"] = list(report.pinned_cores)
        fields["load_average"] = list(report.load_average)
        fields["phases"] = dict(report.phases)
        fields["all_succeeded"] = report.all_succeeded
        fields["met_delay_target"] = report.met_delay_target
        fields["cpu_utilisation"] = _utilisation(report)
        finite: dict[str, Any] = json_safe(fields)
        return finite

    return {
        "benchmark": "operator-scale",
        "target": {"p99_delay_seconds": TARGET_P99_S, "rollouts_on_one_core": TARGET_ROLLOUTS},
        "settings": {
            "interval": settings.interval,
            "warmup": settings.warmup,
            "slices": list(settings.slices),
            "tick_seconds": settings.tick_seconds,
            "core": settings.core,
        },
        "results": [one(report) for report in reports],
    }


def json_safe(value: Any) -> Any:
    """JSON has no NaN: a delay never measured becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    return value
