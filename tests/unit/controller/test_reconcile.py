"""The reconcile loop over fakes: what it writes, in which order, and what it leaves alone."""

from __future__ import annotations

import pytest

from airollout.controller import telemetry
from tests.support.controller_fakes import Harness, rollout_body

pytestmark = pytest.mark.unit


def test_a_new_rollout_writes_its_status_before_it_moves_any_traffic() -> None:
    harness = Harness()
    harness.reconcile()

    names = harness.calls.names()
    assert names.index("write-status") < names.index("set-weight")
    status = harness.body["status"]
    assert (status["phase"], status["weight"], status["awaiting"]) == (
        "Progressing",
        10,
        "g1-s0-weight",
    )


def test_a_status_write_that_loses_a_conflict_moves_no_traffic_and_posts_nothing() -> None:
    harness = Harness(conflict=True)
    harness.reconcile()

    assert "write-status" in harness.calls.names()
    assert not {"set-weight", "event", "rollback"} & set(harness.calls.names())


def test_what_status_awaits_is_reissued_until_the_router_says_it_is_in_effect() -> None:
    harness = Harness()
    harness.router.ready = False
    harness.reconcile()
    harness.reconcile()
    assert harness.calls.names() == ["set-weight"], "re-issued, nothing written meanwhile"

    harness.router.ready = True
    harness.reconcile()
    status = harness.body["status"]
    assert status["awaiting"] is None
    assert status["window"]["key"] == "g1-s0-w1"


def test_a_due_window_is_judged_logged_under_its_key_and_the_evidence_kept() -> None:
    harness = Harness()
    harness.reconcile()  # 10 % asked for
    harness.reconcile()  # 10 % in effect: the first window opens
    harness.advance(11)
    harness.reconcile()

    assert "g1-s0-w1" in harness.log.entries
    names = harness.calls.names()
    assert names.count("write-status") == 1, "one status write per decision"
    assert names.index("write-status") < names.index("log-decision"), "the status first"
    status = harness.body["status"]
    assert [d["key"] for d in status["decisions"]] == ["g1-s0-w1"]
    assert status["evidence"], "the judge's state is carried to the next window"


def test_an_invalid_spec_fails_the_rollout_naming_the_field_and_touches_no_traffic() -> None:
    harness = Harness()
    harness.body = rollout_body(traffic={"slices": [50, 25, 100]})
    harness.reconcile()

    status = harness.body["status"]
    assert status["phase"] == "Failed"
    assert status["message"].startswith("spec.traffic.slices")
    assert "set-weight" not in harness.calls.names()


def test_a_second_rollout_of_a_target_waits_blocked_naming_the_first() -> None:
    harness = Harness()
    harness.reconcile(owner="web-v1")

    status = harness.body["status"]
    assert (status["phase"], status["blockedBy"]) == ("Blocked", "web-v1")
    assert "web-v1" in status["message"]


def test_a_missing_target_keeps_the_rollout_pending_and_says_which() -> None:
    harness = Harness(target_exists=False)
    harness.reconcile()

    status = harness.body["status"]
    assert (status["phase"], status["reason"]) == ("Pending", "TargetMissing")
    assert "Deployment web" in status["message"]


def test_an_abort_annotation_rolls_back_and_is_removed_once_acted_on() -> None:
    harness = Harness()
    harness.reconcile()
    harness.body["metadata"]["annotations"] = {"airollout.dev/action": "abort"}
    harness.reconcile()

    assert harness.body["status"]["phase"] == "RolledBack"
    names = harness.calls.names()
    assert names.index("write-status") < names.index("rollback")
    [(_, patch)] = [call for call in harness.calls if call[0] == "patch-object"]
    assert patch["metadata"]["annotations"]["airollout.dev/action"] is None


def test_a_finished_rollout_with_nothing_awaited_is_not_looked_at_again() -> None:
    harness = Harness()
    harness.body["status"] = {"phase": "Succeeded", "observedGeneration": 1}
    harness.reconcile()
    assert harness.calls == []


def _written_count() -> float:
    samples = telemetry.DECISION_WRITTEN_SECONDS.collect()[0].samples
    return next(sample.value for sample in samples if sample.name.endswith("_count"))


def test_the_written_delay_is_observed_once_per_verdict_and_only_once_written() -> None:
    lost = Harness()
    lost.reconcile()
    lost.reconcile()
    lost.advance(11)
    lost.custom.conflict = True
    before = _written_count()
    lost.reconcile()  # the window is judged, but its status write loses
    assert _written_count() == before

    harness = Harness()
    harness.reconcile()
    harness.reconcile()
    assert _written_count() == before, "no verdict yet: nothing observed"
    harness.advance(11)
    harness.reconcile()
    assert _written_count() == before + 1
