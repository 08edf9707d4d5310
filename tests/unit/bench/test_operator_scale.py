"""The operator-scale benchmark's pure parts: statistics, /proc parsing, the operator's
histogram, the delay bookkeeping, the exporter's series and the report."""

from __future__ import annotations

import argparse
import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from airollout.core.resource.spec import AIRolloutSpec
from airollout_tools.bench.scale.cli import _sizes
from airollout_tools.bench.scale.cluster import nodes_for
from airollout_tools.bench.scale.report import (
    DelaySummary,
    SliceReport,
    bucket_bound_of_quantile,
    cpu_seconds_from_stat,
    histogram_buckets,
    operator_histograms,
    peak_rss_bytes_from_status,
    percentile,
    render_table,
    report_json,
)
from airollout_tools.bench.scale.settings import ScaleSettings
from airollout_tools.bench.scale.watching import DecisionWatch
from airollout_tools.bench.scale.workloads import SteadyExporter, rollout_manifest

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_percentile_is_nearest_rank_of_measured_values() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0


def test_percentile_of_few_values_takes_the_largest_at_p99() -> None:
    assert percentile([0.2, 5.0, 0.1], 99) == 5.0
    assert percentile([7.0], 0) == 7.0


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 99))


def test_cpu_seconds_add_user_and_system_time_counted_after_the_command_name() -> None:
    # The name holds a space and a ')' to show fields are counted from the last ')'.
    fields = ["S", "1", "1", "1", "0", "-1", "4194304", "10", "0", "0", "0", "250", "150"]
    stat = "4242 (py thon) x) " + " ".join(fields) + " 0 0 20 0 9 0 100 0 0"
    assert cpu_seconds_from_stat(stat, 100.0) == pytest.approx(4.0)


def test_cpu_seconds_of_this_process_are_read_from_its_own_stat() -> None:
    with open("/proc/self/stat") as stat:
        seconds = cpu_seconds_from_stat(stat.read(), 100.0)
    assert seconds >= 0.0


def test_peak_rss_is_vmhwm_in_bytes() -> None:
    status = "Name:\tpython\nVmPeak:\t  900 kB\nVmHWM:\t  204800 kB\nVmRSS:\t 1000 kB\n"
    assert peak_rss_bytes_from_status(status) == 204800 * 1024


def test_peak_rss_without_vmhwm_is_an_error() -> None:
    with pytest.raises(ValueError, match="VmHWM"):
        peak_rss_bytes_from_status("Name:\tkthreadd\n")


METRICS = """\
# HELP airollout_decision_delay_seconds From the end of an analysis window to its verdict.
# TYPE airollout_decision_delay_seconds histogram
airollout_decision_delay_seconds_bucket{le="0.5"} 90.0
airollout_decision_delay_seconds_bucket{le="1.0"} 98.0
airollout_decision_delay_seconds_bucket{le="2.0"} 99.0
airollout_decision_delay_seconds_bucket{le="5.0"} 100.0
airollout_decision_delay_seconds_bucket{le="+Inf"} 100.0
airollout_decision_delay_seconds_count 100.0
airollout_decision_delay_seconds_sum 31.0
airollout_reconcile_seconds_bucket{le="0.5"} 3.0
"""


def test_histogram_buckets_are_read_in_bound_order_and_other_metrics_ignored() -> None:
    buckets = histogram_buckets(METRICS, "airollout_decision_delay_seconds")
    assert buckets == [(0.5, 90.0), (1.0, 98.0), (2.0, 99.0), (5.0, 100.0), (math.inf, 100.0)]


def test_histogram_buckets_of_labelled_series_are_summed_per_bound() -> None:
    text = 'h_bucket{a="x",le="1.0"} 2.0\nh_bucket{a="y",le="1.0"} 3.0\n'
    assert histogram_buckets(text, "h") == [(1.0, 5.0)]


def test_quantile_bound_is_the_first_bucket_holding_that_share() -> None:
    buckets = histogram_buckets(METRICS, "airollout_decision_delay_seconds")
    assert bucket_bound_of_quantile(buckets, 0.99) == 2.0
    assert bucket_bound_of_quantile(buckets, 0.5) == 0.5
    assert bucket_bound_of_quantile(buckets, 1.0) == 5.0


def test_operator_histograms_summarise_each_known_histogram_and_mark_absent_ones() -> None:
    summaries = operator_histograms(METRICS)
    delay = summaries["airollout_decision_delay_seconds"]
    assert (delay.count, delay.p50_at_most, delay.p99_at_most) == (100.0, 0.5, 2.0)
    query = summaries["airollout_prometheus_query_seconds"]
    assert (query.count, query.p99_at_most) == (0.0, None)


def test_quantile_bound_of_an_empty_histogram_is_none() -> None:
    assert bucket_bound_of_quantile([], 0.99) is None
    assert bucket_bound_of_quantile([(1.0, 0.0), (math.inf, 0.0)], 0.99) is None


def rollout(name: str, **status: object) -> dict[str, object]:
    return {"metadata": {"name": name}, "status": status}


def test_decision_delay_runs_from_the_window_end_seen_open_to_the_decision() -> None:
    watch = DecisionWatch()
    end = T0 + timedelta(seconds=5)
    window = {"key": "g1-s0-w1", "start": rfc3339(T0), "end": rfc3339(end)}
    watch.observe(rollout("a", phase="Progressing", window=window), T0)
    decision = {"key": "g1-s0-w1", "time": rfc3339(end + timedelta(seconds=0.4))}
    watch.observe(
        rollout("a", phase="Progressing", decisions=[decision]), end + timedelta(seconds=2)
    )
    # A later status repeating the same decision does not move its first sighting.
    watch.observe(rollout("a", phase="Succeeded", decisions=[decision]), end + timedelta(seconds=9))
    recorded, seen, unmatched = watch.delays()
    assert recorded == [pytest.approx(0.4)]
    assert seen == [pytest.approx(2.0)]
    assert unmatched == 0
    assert watch.finished(["a"])


def test_a_decision_whose_window_was_never_seen_is_counted_not_measured() -> None:
    watch = DecisionWatch()
    decision = {"key": "g1-s0-w1", "time": rfc3339(T0)}
    watch.observe(rollout("a", phase="Progressing", decisions=[decision]), T0)
    assert watch.delays() == ([], [], 1)
    assert not watch.finished(["a", "b"])
    assert watch.phase_counts() == {"Progressing": 1}


def test_same_window_key_in_two_rollouts_is_two_decisions() -> None:
    watch = DecisionWatch()
    window = {"key": "g1-s0-w1", "end": rfc3339(T0)}
    decision = {"key": "g1-s0-w1", "time": rfc3339(T0 + timedelta(seconds=1))}
    for name in ("a", "b"):
        watch.observe(rollout(name, window=window), T0)
        watch.observe(rollout(name, decisions=[decision]), T0)
    recorded, _, _ = watch.delays()
    assert recorded == [pytest.approx(1.0), pytest.approx(1.0)]


def sample(name: str, text: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} {labels} in the exposition")


def test_exporter_grows_counts_with_the_clock_for_stable_and_canary() -> None:
    now = [100.0]
    exporter = SteadyExporter(ScaleSettings(rps=10.0, error_ratio=0.1), clock=lambda: now[0])
    exporter.serve("ns", ["web-0"])
    registry = CollectorRegistry()
    registry.register(exporter)
    now[0] = 110.0
    text = generate_latest(registry).decode()
    labels = {"namespace": "ns", "status": "500"}
    assert sample("http_requests_total", text, deployment="web-0", **labels) == 10.0
    assert sample("http_requests_total", text, deployment="web-0-canary", **labels) == 10.0
    ok = sample("http_requests_total", text, deployment="web-0", status="200")
    assert ok == 90.0
    assert sample("http_request_duration_seconds_bucket", text, deployment="web-0", le="+Inf") == (
        100.0
    )


def test_exporter_serves_only_the_latest_namespace() -> None:
    exporter = SteadyExporter(ScaleSettings())
    exporter.serve("first", ["web-0"])
    exporter.serve("second", ["web-0", "web-1"])
    registry = CollectorRegistry()
    registry.register(exporter)
    text = generate_latest(registry).decode()
    assert 'namespace="first"' not in text
    assert 'deployment="web-1-canary"' in text


def test_rollout_manifest_is_a_valid_spec_with_the_rules_judge_and_short_windows() -> None:
    settings = ScaleSettings(interval="5s", warmup="1s", slices=(10, 50, 100))
    manifest = rollout_manifest("web-3-bench", "web-3", settings)
    spec = AIRolloutSpec.model_validate(manifest["spec"])
    assert spec.target_ref.name == "web-3"
    assert spec.traffic.slices == [10, 50, 100]
    assert spec.judge.mode == "rules"
    assert "{{ workload }}" in manifest["spec"]["analysis"]["metrics"][0]["errorQuery"]


def test_sizes_parse_comma_separated_positive_counts() -> None:
    assert _sizes("50,200") == (50, 200)
    with pytest.raises(argparse.ArgumentTypeError):
        _sizes("50,x")
    with pytest.raises(argparse.ArgumentTypeError):
        _sizes("0")


def report(seen_p99: float, succeeded: int = 200) -> SliceReport:
    seen = DelaySummary(count=400, p50=0.3, p99=seen_p99, max=seen_p99 + 1)
    return SliceReport(
        rollouts=200,
        succeeded=succeeded,
        phases={"Succeeded": succeeded, "RolledBack": 200 - succeeded},
        timed_out=False,
        wall_seconds=50.0,
        recorded=DelaySummary.of([]),
        seen=seen,
        histograms=operator_histograms(METRICS),
        unmatched_decisions=0,
        cpu_seconds=25.0,
        peak_rss_bytes=300 * 2**20,
        pinned_cores=(0,),
        load_average=(2.0, 2.5, 3.0),
    )


def test_table_shows_figures_beside_the_targets_and_the_pinned_core() -> None:
    table = render_table(report(seen_p99=1.5))
    assert "pinned to core 0" in table
    assert "p99 1.50 s" in table
    assert ": met" in table
    assert "50% of one core" in table
    assert "300 MiB" in table
    assert "yes (200/200" in table
    assert "p50 <= 0.5 s  p99 <= 2 s  (n=100)" in table


def test_table_says_missed_and_not_all_succeeded_when_so() -> None:
    table = render_table(report(seen_p99=2.5, succeeded=199))
    assert "MISSED" in table
    assert "NO (199/200" in table
    assert "RolledBack 1" in table


def test_json_report_is_strict_json_with_nulls_for_unmeasured_delays() -> None:
    document = report_json([report(seen_p99=1.0)], ScaleSettings())
    text = json.dumps(document, allow_nan=False)
    result = json.loads(text)["results"][0]
    assert result["recorded"]["p99"] is None
    assert result["seen"]["p99"] == 1.0
    assert result["met_delay_target"] is True
    assert result["cpu_utilisation"] == pytest.approx(0.5)
    delay = result["histograms"]["airollout_decision_delay_seconds"]
    assert delay == {"count": 100.0, "p50_at_most": 0.5, "p99_at_most": 2.0}
    assert json.loads(text)["target"] == {"p99_delay_seconds": 2.0, "rollouts_on_one_core": 200}


def test_enough_kwok_nodes_for_every_pod_at_its_peak() -> None:
    assert nodes_for(200) * 110 >= 200 * 6 + 110
    assert nodes_for(5) == 2
