"""The simulated workload, driven by hand: a fake clock, fake ready replicas, fixed seeds."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from airollout_tools.sim.scenario import Scenario, parse_scenario
from airollout_tools.sim.workload import ReadyReplicas, Workload, WorkloadSettings

pytestmark = pytest.mark.unit

TICK_S = 0.2
Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


class FakeClock:
    """Time that moves only when a test says so, in whole ticks so boundaries are exact."""

    def __init__(self) -> None:
        self.ticks = 0

    def __call__(self) -> float:
        return 5000.0 + self.ticks * TICK_S


class FakeReplicas:
    def __init__(self, stable: int, canary: int) -> None:
        self.ready = ReadyReplicas(stable, canary)
        self.calls = 0

    def __call__(self) -> ReadyReplicas:
        self.calls += 1
        return self.ready


def scenario(**fields: Any) -> Scenario:
    return parse_scenario({"expect": "proceed", **fields}, source="test", default_name="test")


def workload(
    scenario_: Scenario,
    replicas: Callable[[], tuple[int, int]],
    clock: FakeClock,
    **settings: Any,
) -> Workload:
    built = Workload(
        scenario_, replicas, WorkloadSettings(namespace="shop", target="web", **settings), clock
    )
    built.poll_shares()
    return built


def run_for(built: Workload, clock: FakeClock, seconds: float) -> None:
    for _ in range(round(seconds / TICK_S)):
        clock.ticks += 1
        built.tick()


def scrape(built: Workload) -> Series:
    text = generate_latest(built.registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    return series[(name, frozenset(labels.items()))]


def requests_of(series: Series, version: str, status: str | None = None) -> float:
    statuses = [status] if status else ["200", "500"]
    deployment = "web-canary" if version == "canary" else "web"
    return sum(
        value(
            series,
            "http_requests_total",
            namespace="shop",
            deployment=deployment,
            version=version,
            status=code,
        )
        for code in statuses
    )


def versions_exported(series: Mapping[tuple[str, frozenset[tuple[str, str]]], float]) -> set[str]:
    return {dict(labels)["version"] for _, labels in series}


def test_no_canary_pods_means_no_canary_requests_and_no_canary_series() -> None:
    clock = FakeClock()
    built = workload(scenario(rps=500), FakeReplicas(10, 0), clock)
    run_for(built, clock, 10)
    series = scrape(built)
    assert versions_exported(series) == {"stable"}
    assert requests_of(series, "stable") > 4000


def test_requests_split_by_the_ready_replica_share() -> None:
    clock = FakeClock()
    built = workload(scenario(), FakeReplicas(9, 1), clock, rps=1000)
    run_for(built, clock, 60)
    series = scrape(built)
    canary, stable = requests_of(series, "canary"), requests_of(series, "stable")
    # 60 000 requests: the canary's share has a standard deviation near 0.0012.
    assert canary / (canary + stable) == pytest.approx(0.10, abs=0.01)
    assert canary + stable == pytest.approx(60_000, rel=0.03), "--rps sets the total rate"


def test_error_fraction_of_each_version_follows_the_scenario() -> None:
    clock = FakeClock()
    faulty = scenario(canary={"error_rate": 0.06}, stable={"error_rate": 0.001})
    built = workload(faulty, FakeReplicas(5, 5), clock, rps=1000)
    run_for(built, clock, 60)
    series = scrape(built)
    canary_errors = requests_of(series, "canary", "500") / requests_of(series, "canary")
    stable_errors = requests_of(series, "stable", "500") / requests_of(series, "stable")
    # About 30 000 requests each: standard deviations near 0.0014 and 0.0002.
    assert canary_errors == pytest.approx(0.06, abs=0.01)
    assert stable_errors == pytest.approx(0.001, abs=0.001)


def test_histogram_counts_add_up_to_the_requests_served() -> None:
    clock = FakeClock()
    built = workload(scenario(rps=300), FakeReplicas(3, 1), clock)
    run_for(built, clock, 20)
    series = scrape(built)
    for version, deployment in (("stable", "web"), ("canary", "web-canary")):
        labels = {"namespace": "shop", "deployment": deployment, "version": version}
        served = requests_of(series, version)
        assert served > 0
        assert value(series, "http_request_duration_seconds_count", **labels) == served
        assert value(series, "http_request_duration_seconds_bucket", le="+Inf", **labels) == served
        assert value(series, "http_request_duration_seconds_sum", **labels) > 0


def test_latency_buckets_are_in_seconds_around_the_scenario_p50_and_p99() -> None:
    clock = FakeClock()
    slow = scenario(stable={"latency_p50_ms": 100, "latency_p99_ms": 500})
    built = workload(slow, FakeReplicas(1, 0), clock, rps=1000)
    run_for(built, clock, 30)
    series = scrape(built)
    labels = {"namespace": "shop", "deployment": "web", "version": "stable"}
    total = requests_of(series, "stable")

    def share_at_most(le: str) -> float:
        return value(series, "http_request_duration_seconds_bucket", le=le, **labels) / total

    assert share_at_most("0.1") == pytest.approx(0.50, abs=0.02)
    assert share_at_most("0.5") == pytest.approx(0.99, abs=0.003)
    mean_s = value(series, "http_request_duration_seconds_sum", **labels) / total
    assert 0.1 < mean_s < 0.2, "the log-normal's mean lies above its median, in seconds"


def test_missing_event_removes_the_versions_series_once_it_starts() -> None:
    clock = FakeClock()
    hidden = scenario(events=[{"version": "canary", "from_s": 60, "missing": True}])
    built = workload(hidden, FakeReplicas(9, 1), clock)
    run_for(built, clock, 30)
    assert versions_exported(scrape(built)) == {"stable", "canary"}
    run_for(built, clock, 40)
    assert versions_exported(scrape(built)) == {"stable"}


def test_canary_series_disappear_when_its_pods_go_and_traffic_returns_to_stable() -> None:
    clock = FakeClock()
    replicas = FakeReplicas(1, 1)
    built = workload(scenario(), replicas, clock, rps=500)
    run_for(built, clock, 5)
    assert versions_exported(scrape(built)) == {"stable", "canary"}
    stable_before = requests_of(scrape(built), "stable")
    replicas.ready = ReadyReplicas(1, 0)
    built.poll_shares()
    run_for(built, clock, 5)
    series = scrape(built)
    assert versions_exported(series) == {"stable"}
    # All 2500 requests of the last five seconds went to stable (Poisson noise near 50).
    assert requests_of(series, "stable") - stable_before == pytest.approx(2500, rel=0.1)


def test_event_from_s_applies_once_scaled_scenario_time_passes_it() -> None:
    clock = FakeClock()
    breaks = scenario(
        canary={"error_rate": 0.0},
        events=[{"version": "canary", "from_s": 40, "set": {"error_rate": 1.0}}],
    )
    # Four scenario seconds per wall second: the event starts after 10 wall seconds.
    built = workload(breaks, FakeReplicas(1, 1), clock, rps=200, time_scale=4)
    run_for(built, clock, 9.6)
    before = scrape(built)
    assert requests_of(before, "canary") > 0
    assert requests_of(before, "canary", "500") == 0
    run_for(built, clock, 0.6)
    crossed = scrape(built)
    run_for(built, clock, 5)
    after = scrape(built)
    new_requests = requests_of(after, "canary") - requests_of(crossed, "canary")
    new_errors = requests_of(after, "canary", "500") - requests_of(crossed, "canary", "500")
    assert new_requests > 0
    assert new_errors == new_requests


def test_event_from_weight_starts_when_the_observed_canary_share_reaches_it() -> None:
    clock = FakeClock()
    breaks_at_half = scenario(
        canary={"error_rate": 0.0},
        events=[{"version": "canary", "from_weight": 50, "set": {"error_rate": 1.0}}],
    )
    replicas = FakeReplicas(9, 1)
    built = workload(breaks_at_half, replicas, clock, rps=500)
    run_for(built, clock, 10)
    at_ten_percent = scrape(built)
    assert requests_of(at_ten_percent, "canary", "500") == 0
    replicas.ready = ReadyReplicas(5, 5)
    built.poll_shares()
    run_for(built, clock, 10)
    at_half = scrape(built)
    new_requests = requests_of(at_half, "canary") - requests_of(at_ten_percent, "canary")
    new_errors = requests_of(at_half, "canary", "500")
    assert new_requests > 0
    assert new_errors == new_requests


def test_a_failing_replica_source_keeps_the_shares_last_seen() -> None:
    clock = FakeClock()
    answers: list[ReadyReplicas | Exception] = [ReadyReplicas(1, 1), ConnectionError("down")]

    def flaky() -> ReadyReplicas:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    built = workload(scenario(rps=400), flaky, clock)
    built.poll_shares()
    run_for(built, clock, 10)
    series = scrape(built)
    assert requests_of(series, "canary") == pytest.approx(2000, rel=0.1)


def test_no_ready_pods_at_all_serves_nothing() -> None:
    clock = FakeClock()
    built = workload(scenario(), FakeReplicas(0, 0), clock)
    run_for(built, clock, 10)
    assert scrape(built) == {}


def test_the_same_seed_gives_the_same_traffic_and_another_seed_does_not() -> None:
    def exported(seed: int) -> Series:
        clock = FakeClock()
        built = workload(scenario(), FakeReplicas(3, 1), clock, seed=seed)
        run_for(built, clock, 5)
        return scrape(built)

    assert exported(7) == exported(7)
    assert exported(7) != exported(8)


def test_http_answers_healthz_metrics_and_not_found() -> None:
    built = Workload(
        scenario(rps=1000), FakeReplicas(1, 1), WorkloadSettings(namespace="shop", target="web")
    )
    url = built.start()
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
            assert response.status == 200
        body = ""
        for _ in range(50):  # the traffic thread ticks every 0.2 s
            with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
                body = response.read().decode()
            if 'deployment="web-canary"' in body:
                break
            time.sleep(0.1)
        families = {family.name: family for family in text_string_to_metric_families(body)}
        canary_requests = [
            sample
            for sample in families["http_requests"].samples
            if sample.labels["deployment"] == "web-canary"
        ]
        assert {sample.labels["status"] for sample in canary_requests} == {"200", "500"}
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{url}/nothing", timeout=5)
        assert missing.value.code == 404
    finally:
        built.stop()
