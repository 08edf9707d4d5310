"""Finished rollouts as the loop reads them from AIRollout objects and decision records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airollout.adapters.mlflow.tracking import OUTCOME_TAG
from airollout.core.decision_log_layout import LoggedRecord
from airollout.core.feedback.outcomes import Outcome
from airollout.feedback.finished import (
    finished,
    full_run,
    plan_record,
    rollout_run,
    window_points,
    with_predecessors,
)
from airollout.feedback.loop import plans_and_escapes

pytestmark = pytest.mark.unit

DONE = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
UID = "0f0f0f0f-0000-4000-8000-000000000001"


def a_manifest(name: str = "checkout-1", phase: str = "Succeeded", **status: Any) -> dict[str, Any]:
    completed = {
        "type": "Completed",
        "status": "True",
        "lastTransitionTime": "2026-11-30T12:00:00Z",
    }
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "uid": UID,
            "creationTimestamp": "2026-11-30T11:00:00Z",
        },
        "spec": {
            "targetRef": {"name": "checkout"},
            "template": {"image": "registry.example/checkout:1"},
            "revision": "abc123",
            "traffic": {"slices": [10, 50]},
        },
        "status": {"phase": phase, "templateHash": "h1", "conditions": [completed], **status},
    }


def a_record(key: str, action: str, minute: int, **fields: Any) -> LoggedRecord:
    record = {"time": f"2026-11-30T11:{minute:02d}:00Z", "action": action, **fields}
    return LoggedRecord("shop", "checkout-1", UID, key, 1, record)


def test_a_succeeded_rollout_is_a_promotion_finished_when_completed_flipped() -> None:
    item = finished(a_manifest(), [])

    assert item is not None
    assert item.uid == UID
    assert item.rollout.result == "promoted"
    assert item.rollout.finished_at == DONE
    assert (item.rollout.target, item.rollout.revision, item.rollout.template_hash) == (
        "checkout",
        "abc123",
        "h1",
    )
    assert item.started_at == DONE - timedelta(hours=1)


def test_a_rollout_still_moving_is_not_finished() -> None:
    assert finished(a_manifest(phase="Progressing"), []) is None


def test_the_promotion_score_and_signals_come_from_the_status() -> None:
    promotion = {"score": 0.93, "decision": "auto-promote", "signals": {"coverage_delta": -1.5}}

    item = finished(a_manifest(promotion=promotion), [])

    assert item is not None
    assert item.rollout.score == 0.93
    assert item.rollout.decision == "auto-promote"
    assert item.signals is not None
    assert item.signals.coverage_delta == -1.5


def test_without_a_status_promotion_the_promotion_record_is_read() -> None:
    verdict = a_record("promotion", "manual-review", 1, promotion={"score": 0.8})

    item = finished(a_manifest(), [verdict])

    assert item is not None
    assert item.rollout.score == 0.8
    assert item.signals is None


def test_malformed_signals_leave_the_rollout_out_of_the_refit_only() -> None:
    promotion = {"score": 0.9, "signals": {"tests": {"failed": -1}}}

    item = finished(a_manifest(promotion=promotion), [])

    assert item is not None
    assert item.signals is None
    assert item.rollout.score == 0.9


def test_windows_are_numbered_in_order_with_verdicts_and_metric_values() -> None:
    metrics = [{"name": "errors", "canaryValue": 0.02, "stableValue": 0.01}]
    records = [
        a_record("promotion", "auto-promote", 1),
        a_record("g1-s0-w1", "proceed", 2, weight=10, metrics=metrics),
        a_record("g1-s1-w1", "rollback", 3, weight=50),
    ]

    points = window_points(records)

    assert [(p.step, p.values["verdict"], p.values["weight"]) for p in points] == [
        (1, 1.0, 10.0),
        (2, -1.0, 50.0),
    ]
    assert points[0].values["errors.canary"] == 0.02
    assert points[0].values["errors.stable"] == 0.01


def test_a_rollout_knows_the_template_its_targets_previous_promotion_left() -> None:
    first = finished(a_manifest("one"), [])
    later = a_manifest("two", templateHash="h2")
    later["status"]["conditions"][0]["lastTransitionTime"] = "2026-11-30T13:00:00Z"
    second = finished(later, [])
    assert first is not None
    assert second is not None

    ordered = with_predecessors([second, first])

    assert [item.rollout.name for item in ordered] == ["one", "two"]
    assert ordered[0].rollout.previous_template_hash is None
    assert ordered[1].rollout.previous_template_hash == "h1"


def test_the_mlflow_run_carries_the_spec_as_params_and_the_outcome_as_a_tag() -> None:
    item = finished(a_manifest(promotion={"score": 0.97, "decision": "auto-promote"}), [])
    assert item is not None

    run = rollout_run(item, Outcome.REGRESSED)
    unlabelled = rollout_run(item, None)

    assert run.params == {
        "target": "checkout",
        "revision": "abc123",
        "template_hash": "h1",
        "result": "promoted",
        "slices": "10,50",
        "judge_mode": "rules",
    }
    assert run.tags[OUTCOME_TAG] == "regressed"
    assert run.tags["airollout.decision"] == "auto-promote"
    assert OUTCOME_TAG not in unlabelled.tags
    assert run.score == 0.97


def a_tested(name: str, revision: str, plan: dict[str, Any], **status: Any) -> Any:
    manifest = a_manifest(name, testPlan=plan, **status)
    manifest["spec"]["revision"] = revision
    item = finished(manifest, [])
    assert item is not None
    return item


def test_a_test_a_later_full_run_found_failing_outside_the_plan_is_an_escape() -> None:
    targeted = a_tested(
        "one",
        "abc",
        {"full_suite": False, "tests": ["t::a"], "changed_paths": ["src/pay/api.py"]},
    )
    full = a_tested(
        "two",
        "abc",
        {"full_suite": True, "tests": []},
        tests={"failed": 2, "failing": ["t::a", "t::b"]},
    )
    other_revision = a_tested("three", "def", {"full_suite": True}, tests={"failing": ["t::c"]})

    plans, escapes = plans_and_escapes([targeted, full, other_revision])

    assert [plan.full_suite for plan in plans] == [False, True, True]
    assert [(e.test, e.revision, e.changed_paths) for e in escapes] == [
        ("t::b", "abc", ("src/pay/api.py",))
    ]


def test_a_rollout_without_a_selection_stage_has_no_plan() -> None:
    item = finished(a_manifest(), [])
    assert item is not None

    assert plan_record(item) is None
    assert full_run(item) is None
