"""`bench operator --peer argo`'s pure parts: the Rollouts' steps and template, the step
bookkeeping from the two watches, and the side-by-side table and JSON."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airollout_tools.bench.scale.peer_report import (
    ArgoStepWatch,
    PeerReport,
    always_pass_template,
    canary_steps,
    comparison_json,
    comparison_row,
    render_comparison,
)
from airollout_tools.bench.scale.report import DelaySummary, SliceReport
from airollout_tools.bench.scale.settings import ScaleSettings
from airollout_tools.bench.scale.watching import DecisionWatch

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
STEPS = len(canary_steps((10, 25, 50, 100), "t"))  # 7: four weights, three analyses


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def rollout(name: str, index: int | None, phase: str = "Progressing") -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase}
    if index is not None:
        status["currentStepIndex"] = index
    return {"metadata": {"name": name}, "status": status}


def analysis_run(owner: str, step: int, phase: str | None) -> dict[str, Any]:
    metadata = {
        "name": f"{owner}-{step}",
        "labels": {"step-index": str(step), "rollout-type": "Step"},
        "ownerReferences": [{"kind": "Rollout", "name": owner}],
    }
    return {"metadata": metadata, "status": {"phase": phase} if phase else {}}


def test_steps_alternate_weights_and_analyses_ending_at_the_last_slice() -> None:
    steps = canary_steps((10, 25, 50, 100), "always-pass")
    assert [next(iter(step)) for step in steps] == [
        "setWeight", "analysis", "setWeight", "analysis", "setWeight", "analysis", "setWeight",
    ]  # fmt: skip
    assert [step["setWeight"] for step in steps if "setWeight" in step] == [10, 25, 50, 100]
    assert steps[1]["analysis"]["templates"] == [{"templateName": "always-pass"}]


def test_template_measures_once_a_window_after_the_step_begins() -> None:
    metric = always_pass_template("t", "http://127.0.0.1:1/", 5.0)["spec"]["metrics"][0]
    assert (metric["initialDelay"], metric["interval"], metric["count"]) == ("5s", "5s", 1)
    assert metric["provider"]["web"]["url"] == "http://127.0.0.1:1/"
    assert metric["successCondition"] == "result.ok == true"


def test_sightings_before_the_update_resets_the_steps_are_ignored() -> None:
    watch = ArgoStepWatch(STEPS, 5.0)
    watch.observe_rollout(rollout("a", STEPS, "Healthy"), at(0))  # still the first deploy
    assert not watch.reached
    assert not watch.finished(["a"])
    watch.observe_rollout(rollout("a", 0), at(1))
    assert watch.reached == {("a", 0): at(1)}


def test_each_analysis_is_measured_from_its_success_to_the_next_steps() -> None:
    watch = ArgoStepWatch(STEPS, 5.0)
    watch.observe_rollout(rollout("a", 1), at(0))  # on the first analysis step
    watch.observe_analysis_run(analysis_run("a", 1, None), at(0.2))  # run created
    watch.observe_analysis_run(analysis_run("a", 1, "Running"), at(0.5))
    watch.observe_analysis_run(analysis_run("a", 1, "Successful"), at(5.4))
    watch.observe_analysis_run(analysis_run("a", 1, "Successful"), at(9.0))  # a later resync
    watch.observe_rollout(rollout("a", 2), at(5.7))  # on setWeight 25
    watch.observe_rollout(rollout("a", 3), at(6.4))  # past it: the weight applied
    to_next, to_applied, from_window = watch.delays()
    assert to_next == [pytest.approx(0.3)]
    assert to_applied == [pytest.approx(1.0)]
    assert from_window == [pytest.approx(6.4 - (0.2 + 5.0))]


def test_a_write_that_moves_two_steps_reaches_both() -> None:
    watch = ArgoStepWatch(STEPS, 5.0)
    watch.observe_rollout(rollout("a", 1), at(0))
    watch.observe_analysis_run(analysis_run("a", 1, "Successful"), at(5.0))
    watch.observe_rollout(rollout("a", 3), at(5.5))
    to_next, to_applied, _ = watch.delays()
    assert to_next == to_applied == [pytest.approx(0.5)]


def test_a_run_without_its_rollouts_next_step_yet_is_not_a_delay() -> None:
    watch = ArgoStepWatch(STEPS, 5.0)
    watch.observe_rollout(rollout("a", 1), at(0))
    watch.observe_analysis_run(analysis_run("a", 1, "Successful"), at(5.0))
    assert watch.delays() == ([], [], [])


def test_healthy_past_the_last_step_succeeds_and_degraded_finishes() -> None:
    watch = ArgoStepWatch(STEPS, 5.0)
    watch.observe_rollout(rollout("a", 0), at(0))
    watch.observe_rollout(rollout("b", 0), at(0))
    watch.observe_rollout(rollout("a", STEPS, "Healthy"), at(30))
    assert not watch.finished(["a", "b"])
    watch.observe_rollout(rollout("b", 3, "Degraded"), at(31))
    assert watch.finished(["a", "b"])
    assert watch.outcome_counts() == {"Succeeded": 1, "Degraded": 1}


def _slice_report(p50: float, p99: float) -> SliceReport:
    delays = DelaySummary(150, p50, p99, p99)
    return SliceReport(
        rollouts=50,
        succeeded=50,
        phases={"Succeeded": 50},
        timed_out=False,
        wall_seconds=40.0,
        recorded=delays,
        seen=delays,
        histograms={},
        unmatched_decisions=0,
        cpu_seconds=14.0,
        peak_rss_bytes=211 * 2**20,
        pinned_cores=(0,),
        load_average=(1.0, 1.0, 1.0),
        applied=DelaySummary(150, 1.5, 2.5, 3.0),
    )


def _peer_report(p99: float) -> PeerReport:
    return PeerReport(
        controller="Argo Rollouts",
        rollouts=50,
        succeeded=49,
        outcomes={"Succeeded": 49, "Degraded": 1},
        timed_out=False,
        wall_seconds=80.0,
        seen=DelaySummary(150, 0.1, 0.2, 0.3),
        applied=DelaySummary(150, 0.9, p99, p99),
        from_window_end=DelaySummary(0, math.nan, math.nan, math.nan),
        analysis_requests=150,
        cpu_seconds=8.0,
        peak_rss_bytes=90 * 2**20,
        pinned_cores=(0,),
        load_average=(1.0, 1.0, 1.0),
    )


def test_the_table_has_a_row_per_controller_with_its_own_figures() -> None:
    peer = _peer_report(3.25)
    rows = [
        comparison_row("AIRollout", _slice_report(0.55, 1.44)),
        comparison_row(peer.controller, peer),
    ]
    lines = render_comparison(rows).splitlines()
    assert len(lines) == 4  # header, rule, two rows
    assert all(line == line.rstrip() for line in lines)
    ours, theirs = lines[2], lines[3]
    assert ours.startswith("AIRollout")
    assert "0.55 s / 1.44 s (n=150)" in ours
    assert "1.50 s / 2.50 s (n=150)" in ours
    assert "14 s, 35% of a core" in ours
    assert "211 MiB" in ours
    assert "50/50" in ours
    assert theirs.startswith("Argo Rollouts")
    assert "0.10 s / 0.20 s (n=150)" in theirs
    assert "0.90 s / 3.25 s (n=150)" in theirs
    assert "8 s, 10% of a core" in theirs
    assert "90 MiB" in theirs
    assert "49/50" in theirs


def test_json_keys_each_controller_and_has_no_nan() -> None:
    report = comparison_json([_slice_report(0.5, 1.0)], [_peer_report(2.0)], ScaleSettings())
    text = json.dumps(report, allow_nan=False)  # raises on a NaN left in
    controllers = json.loads(text)["controllers"]
    assert set(controllers) == {"airollout", "argo-rollouts"}
    assert controllers["airollout"][0]["seen"]["p99"] == 1.0
    argo = controllers["argo-rollouts"][0]
    assert argo["applied"]["p99"] == 2.0
    assert argo["seen"]["p99"] == 0.2
    assert controllers["airollout"][0]["applied"]["p99"] == 2.5
    assert argo["from_window_end"]["p50"] is None
    assert argo["cpu_utilisation"] == pytest.approx(0.1)


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def airollout(
    weight: int, awaiting: str | None, phase: str = "Progressing", decided: bool = False
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase, "weight": weight, "awaiting": awaiting}
    status["window"] = {"key": "g1-s0-w1", "end": rfc3339(at(5))}
    if decided:
        decision = {"key": "g1-s0-w1", "time": rfc3339(at(5.1)), "action": "proceed"}
        status["decisions"] = [{**decision, "weight": 10}]
    return {"metadata": {"name": "r"}, "status": status}


def test_airollout_weight_applied_is_the_next_slice_seen_with_nothing_awaited() -> None:
    watch = DecisionWatch()
    watch.observe(airollout(10, None), at(1))  # the window at 10 % opens
    watch.observe(airollout(25, "g1-s1-weight", decided=True), at(5.4))  # decided, not applied
    assert watch.applied_delays((10, 25, 50, 100)) == []
    watch.observe(airollout(25, None, decided=True), at(7.0))
    watch.observe(airollout(25, None, decided=True), at(9.0))  # a later write changes nothing
    assert watch.applied_delays((10, 25, 50, 100)) == [pytest.approx(2.0)]


def test_airollout_last_weight_is_applied_when_succeeded() -> None:
    watch = DecisionWatch()
    watch.observe(airollout(10, None), at(1))
    watch.observe(airollout(0, None, "Succeeded", decided=True), at(8.0))
    assert watch.applied_delays((10, 100)) == [pytest.approx(3.0)]
