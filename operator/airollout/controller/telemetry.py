"""The operator's own metrics, served on /metrics for Prometheus to scrape."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

DECISIONS = Counter("airollout_decisions_total", "Verdicts recorded, by action.", ["action"])
PHASE_CHANGES = Counter(
    "airollout_phase_transitions_total", "Rollouts entering a phase.", ["phase"]
)
TICKS = Counter("airollout_reconcile_ticks_total", "Timer ticks, one per reconcile started.")
RECONCILE_SECONDS = Histogram(
    "airollout_reconcile_seconds",
    "Time for one reconcile of one AIRollout (judging included).",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# Fine around the 2 s target, so a p99 read from the buckets says which side it is on.
DELAY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30)
DECISION_DELAY_SECONDS = Histogram(
    "airollout_decision_delay_seconds",
    "From the end of an analysis window to its recorded verdict.",
    buckets=DELAY_BUCKETS,
)
DECISION_WRITTEN_SECONDS = Histogram(
    "airollout_decision_written_seconds",
    "From the end of an analysis window to the API server's answer to the status write "
    "that holds its verdict (what follows is the API server's watch).",
    buckets=DELAY_BUCKETS,
)


class RolloutsByPhase(Collector):
    """`airollout_rollouts{phase}`, counted from the operator's index when scraped."""

    def __init__(self, phases: Callable[[], Mapping[str, int]]) -> None:
        self.phases = phases

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("airollout_rollouts", "AIRollouts by phase.", labels=["phase"])
        for phase, count in sorted(self.phases().items()):
            family.add_metric([phase], count)
        yield family


def count_rollouts(phases: Callable[[], Mapping[str, int]]) -> None:
    REGISTRY.register(RolloutsByPhase(phases))
