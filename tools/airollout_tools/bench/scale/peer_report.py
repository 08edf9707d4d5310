"""The pure half of `airollout bench operator --peer argo`: what the Argo Rollouts run
measured, the steps its Rollouts take, and one table with both controllers' rows.

Argo Rollouts writes its times (an AnalysisRun's completedAt) to the second, so every Argo
delay is measured between two moments the benchmark's own watches saw: the AnalysisRun seen
Successful, and the Rollout seen past that step."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from airollout_tools.bench.scale.report import (
    DelaySummary,
    SliceReport,
    json_safe,
    report_json,
    seconds_text,
)

ANALYSIS_SUCCESSFUL = "Successful"
ROLLOUT_SUCCEEDED = "Succeeded"  # our name for Healthy with every step done after the update
# Labels Argo Rollouts puts on the AnalysisRun of a canary step (utils/analysis/factory.go).
STEP_INDEX_LABEL = "step-index"


def canary_steps(slices: Sequence[int], template: str) -> list[dict[str, Any]]:
    """setWeight for every slice, an analysis step between each and the next: the same
    slices AIRollout walks, judged before each move up."""
    steps: list[dict[str, Any]] = []
    for index, weight in enumerate(slices):
        if index:
            steps.append({"analysis": {"templates": [{"templateName": template}]}})
        steps.append({"setWeight": weight})
    return steps


def always_pass_template(name: str, url: str, window_seconds: float) -> dict[str, Any]:
    """One `web` measurement a window after the step begins (count 1, interval = the
    window), passed by the benchmark's endpoint, so the analysis itself costs nothing."""
    window = f"{window_seconds:g}s"
    metric = {
        "name": "always-pass",
        "initialDelay": window,
        "interval": window,
        "count": 1,
        "successCondition": "result.ok == true",
        "provider": {"web": {"url": url, "timeoutSeconds": 10}},
    }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": name},
        "spec": {"metrics": [metric]},
    }


@dataclass
class ArgoStepWatch:
    """First sightings, after the update, of each Rollout's step index and of each analysis
    step's AnalysisRun (created, Successful), from the two watches' events."""

    step_count: int
    window_seconds: float
    armed: set[str] = field(default_factory=set)
    reached: dict[tuple[str, int], datetime] = field(default_factory=dict)
    analysis_started: dict[tuple[str, int], datetime] = field(default_factory=dict)
    analysis_done: dict[tuple[str, int], datetime] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def observe_rollout(self, rollout: Mapping[str, Any], seen: datetime) -> None:
        name = rollout["metadata"]["name"]
        status = rollout.get("status") or {}
        index = status.get("currentStepIndex")
        with self.lock:
            # Before the update every Rollout sits past its last step; the update resets
            # the index, so only sightings from then on count.
            if name not in self.armed:
                if index is None or index >= self.step_count:
                    return
                self.armed.add(name)
            if index is not None:
                # One status write may move more than one step: a step is reached when
                # the index is seen at or past it.
                for step in range(index + 1):
                    self.reached.setdefault((name, step), seen)
            self.outcomes[name] = _outcome(status, index, self.step_count)

    def observe_analysis_run(self, run: Mapping[str, Any], seen: datetime) -> None:
        metadata = run["metadata"]
        owners = metadata.get("ownerReferences") or []
        step = (metadata.get("labels") or {}).get(STEP_INDEX_LABEL)
        if not owners or step is None:
            return
        key = (owners[0]["name"], int(step))
        with self.lock:
            self.analysis_started.setdefault(key, seen)
            if (run.get("status") or {}).get("phase") == ANALYSIS_SUCCESSFUL:
                self.analysis_done.setdefault(key, seen)

    def delays(self) -> tuple[list[float], list[float], list[float]]:
        """Per analysis step: (run seen Successful -> Rollout seen on the next setWeight
        step, -> seen past it (the weight applied), window end -> past it), where the
        window ends `window_seconds` after the run was first seen."""
        to_next, to_applied, from_window = [], [], []
        with self.lock:
            for (name, step), done in self.analysis_done.items():
                following = self.reached.get((name, step + 1))
                applied = self.reached.get((name, step + 2))
                if following is not None:
                    to_next.append((following - done).total_seconds())
                if applied is not None:
                    to_applied.append((applied - done).total_seconds())
                    started = self.analysis_started[(name, step)]
                    window_end = started + timedelta(seconds=self.window_seconds)
                    from_window.append((applied - window_end).total_seconds())
        return to_next, to_applied, from_window

    def finished(self, names: Iterable[str]) -> bool:
        with self.lock:
            return all(self.outcomes.get(name) in (ROLLOUT_SUCCEEDED, "Degraded") for name in names)

    def outcome_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.lock:
            for outcome in self.outcomes.values():
                counts[outcome] = counts.get(outcome, 0) + 1
        return counts


def _outcome(status: Mapping[str, Any], index: int | None, step_count: int) -> str:
    phase = str(status.get("phase") or "Progressing")
    if phase == "Healthy" and index == step_count:
        return ROLLOUT_SUCCEEDED
    return phase


@dataclass(frozen=True)
class PeerReport:
    """What one size N measured with Argo Rollouts driving the same targets."""

    controller: str
    rollouts: int
    succeeded: int
    outcomes: Mapping[str, int]
    timed_out: bool
    wall_seconds: float  # from updating the Rollouts to all of them finished (or time-out)
    seen: DelaySummary  # run seen Successful -> Rollout seen on the next setWeight step
    applied: DelaySummary  # run seen Successful -> Rollout seen past it (pods at the weight)
    from_window_end: DelaySummary  # window end -> Rollout seen past the setWeight step
    analysis_requests: int  # measurements the always-pass endpoint answered
    cpu_seconds: float
    peak_rss_bytes: int
    pinned_cores: tuple[int, ...]
    load_average: tuple[float, float, float]


@dataclass(frozen=True)
class ComparisonRow:
    controller: str
    rollouts: int
    succeeded: int
    wall_seconds: float
    seen: DelaySummary
    applied: DelaySummary
    cpu_seconds: float
    peak_rss_bytes: int

    @property
    def cpu_share(self) -> float:
        return self.cpu_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0


def comparison_row(controller: str, report: SliceReport | PeerReport) -> ComparisonRow:
    return ComparisonRow(
        controller,
        report.rollouts,
        report.succeeded,
        report.wall_seconds,
        report.seen,
        report.applied,
        report.cpu_seconds,
        report.peak_rss_bytes,
    )


COLUMNS = (
    ("controller", 15),
    ("rollouts", 8),
    ("succeeded", 9),
    ("wall", 7),
    ("next weight in status p50 / p99", 31),
    ("next weight applied p50 / p99", 31),
    ("CPU, share of the wall", 23),
    ("peak RSS", 9),
)


def render_comparison(rows: Sequence[ComparisonRow]) -> str:
    """One table, a row per controller and size, delays from each step's end. AIRollout's
    step ends with its window, its next weight is in status with the decision and applied
    once no router change is awaited; Argo's step ends with the AnalysisRun seen
    Successful, its next weight is in status when the Rollout is seen on the setWeight
    step and applied when seen past it (the step waits for the pods)."""

    def line(cells: Sequence[str]) -> str:
        padded = zip(cells, COLUMNS, strict=True)
        return "  ".join(cell.ljust(width) for cell, (_, width) in padded).rstrip()

    out = [line([title for title, _ in COLUMNS]), line(["-" * width for _, width in COLUMNS])]
    for row in rows:
        out.append(
            line(
                [
                    row.controller,
                    str(row.rollouts),
                    f"{row.succeeded}/{row.rollouts}",
                    f"{row.wall_seconds:.0f} s",
                    _p50_p99(row.seen),
                    _p50_p99(row.applied),
                    f"{row.cpu_seconds:.0f} s, {row.cpu_share:.0%} of a core",
                    f"{row.peak_rss_bytes / 2**20:.0f} MiB",
                ]
            )
        )
    return "\n".join(out)


def _p50_p99(summary: DelaySummary) -> str:
    return f"{seconds_text(summary.p50)} / {seconds_text(summary.p99)} (n={summary.count})"


def render_peer_detail(report: PeerReport) -> str:
    def delay(label: str, summary: DelaySummary) -> str:
        return (
            f"  {label:<44} p50 {seconds_text(summary.p50)}  p99 {seconds_text(summary.p99)}"
            f"  max {seconds_text(summary.max)}  (n={summary.count})"
        )

    outcomes = ", ".join(f"{name} {count}" for name, count in sorted(report.outcomes.items()))
    cores = ",".join(map(str, report.pinned_cores))
    return "\n".join(
        [
            f"== {report.rollouts} concurrent Rollouts, {report.controller}"
            f" (controller pinned to core {cores})",
            f"  {'outcomes':<44} {outcomes or 'none seen'}"
            + ("  TIMED OUT" if report.timed_out else ""),
            f"  {'wall time to all finished':<44} {report.wall_seconds:.1f} s",
            delay("analysis done -> next step seen", report.seen),
            delay("analysis done -> weight applied seen", report.applied),
            delay("window end -> weight applied seen", report.from_window_end),
            f"  {'always-pass measurements answered':<44} {report.analysis_requests}",
            f"  {'controller CPU':<44} {report.cpu_seconds:.1f} s",
            f"  {'controller peak RSS':<44} {report.peak_rss_bytes / 2**20:.0f} MiB",
            f"  {'machine load average (1/5/15 min)':<44} "
            + " ".join(f"{load:.2f}" for load in report.load_average),
        ]
    )


def comparison_json(
    airollout: Sequence[SliceReport], peers: Sequence[PeerReport], settings: Any
) -> dict[str, Any]:
    """AIRollout's report as `bench operator --json` prints it, under `airollout`, and the
    peer's under its controller's name in lower case (`argo-rollouts`), each a list by
    size."""
    ours = report_json(airollout, settings)
    theirs: dict[str, list[dict[str, Any]]] = {}
    for peer in peers:
        fields = asdict(peer)
        fields["pinned_cores"] = list(peer.pinned_cores)
        fields["load_average"] = list(peer.load_average)
        fields["outcomes"] = dict(peer.outcomes)
        fields["cpu_utilisation"] = comparison_row(peer.controller, peer).cpu_share
        key = peer.controller.lower().replace(" ", "-")  # "argo-rollouts"
        theirs.setdefault(key, []).append(json_safe(fields))
    return {
        "benchmark": "operator-scale, side by side",
        "settings": ours["settings"],
        "target": ours["target"],
        "controllers": {"airollout": ours["results"], **theirs},
    }
