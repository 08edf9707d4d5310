"""A decision log that fails never wedges the rollout: the verdict is saved in the status,
the record waits there, and it lands in the log once the log takes writes again."""

from __future__ import annotations

from typing import Any

import pytest

from airollout.adapters.kubernetes.decision_log import DecisionLogError
from airollout.adapters.kubernetes.events import InvolvedRollout
from airollout.controller import pending_records
from airollout.core.resource.status import PENDING_RECORDS_KEPT, AIRolloutStatus, DecisionRecord
from tests.support.controller_fakes import Calls, Harness

pytestmark = pytest.mark.unit

REF = InvolvedRollout("shop", "web-v2", "uid-1")


class FlakyLog:
    """A log that refuses every write while `down`, as an apiserver over its limit would."""

    def __init__(self, calls: Calls) -> None:
        self.calls, self.down = calls, True
        self.entries: dict[str, Any] = {}

    def write(self, ref: InvolvedRollout, key: str, record: DecisionRecord) -> None:
        self.calls.append(("log-decision", key))
        if self.down:
            raise DecisionLogError("decision log of shop/web-v2: request entity too large")
        self.entries[key] = record


def harness_with_a_failing_log() -> tuple[Harness, FlakyLog]:
    harness = Harness()
    flaky = FlakyLog(harness.calls)
    harness.reconciler.actor.decisions = flaky  # type: ignore[assignment]
    return harness, flaky


def judge_first_window(harness: Harness) -> None:
    harness.reconcile()  # 10 % asked for
    harness.reconcile()  # 10 % in effect: the first window opens
    harness.advance(11)
    harness.reconcile()  # the window is due: judged


def test_a_failed_log_write_saves_the_verdict_and_keeps_the_record_in_status() -> None:
    harness, flaky = harness_with_a_failing_log()
    judge_first_window(harness)

    status = harness.body["status"]
    assert "write-status" in harness.calls.names(), "the status is saved despite the log"
    assert [d["key"] for d in status["decisions"]] == ["g1-s0-w1"]
    assert [r["key"] for r in status["pendingRecords"]] == ["g1-s0-w1"]
    assert status["weight"] == 25, "the proceed verdict was acted on"
    assert flaky.entries == {}


def test_the_window_is_not_judged_again_and_the_record_lands_once_the_log_works() -> None:
    harness, flaky = harness_with_a_failing_log()
    judge_first_window(harness)
    harness.reconcile()  # the log is still down: one retry, no second verdict
    assert harness.calls.names().count("log-decision") == 1
    assert [d["key"] for d in harness.body["status"]["decisions"]] == ["g1-s0-w1"]

    flaky.down = False
    harness.reconcile()

    assert list(flaky.entries) == ["g1-s0-w1"]
    assert flaky.entries["g1-s0-w1"].action == "proceed"
    assert harness.body["status"]["pendingRecords"] == []
    assert [d["key"] for d in harness.body["status"]["decisions"]] == ["g1-s0-w1"]
    harness.reconcile()
    assert "log-decision" not in harness.calls.names(), "written once, then forgotten"


def test_a_finished_rollout_with_a_waiting_record_is_looked_at_until_it_is_written() -> None:
    harness, flaky = harness_with_a_failing_log()
    waiting = DecisionRecord(
        time="2026-11-25T12:00:11Z", action="rollback", key="g1-s0-w1", reasoning="r"
    )
    harness.body["status"] = {
        "phase": "RolledBack",
        "observedGeneration": 1,
        "pendingRecords": [waiting.model_dump(mode="json", by_alias=True)],
    }
    flaky.down = False
    harness.reconcile()

    assert list(flaky.entries) == ["g1-s0-w1"]
    assert harness.body["status"]["pendingRecords"] == []


def test_waiting_records_are_capped_dropping_the_oldest() -> None:
    status = AIRolloutStatus()
    for window in range(PENDING_RECORDS_KEPT + 3):
        record = DecisionRecord(time="2026-11-25T12:00:00Z", action="hold", reasoning="r")
        status = pending_records.hold(status, f"g1-s0-w{window}", record, REF)

    keys = [entry["key"] for entry in status.pending_records]
    assert len(keys) == PENDING_RECORDS_KEPT
    assert keys[0] == "g1-s0-w3", "the oldest went first"
    assert keys[-1] == f"g1-s0-w{PENDING_RECORDS_KEPT + 2}"


def test_a_flush_stops_at_the_first_refusal_and_keeps_the_rest_in_order() -> None:
    class RefusesSecond(FlakyLog):
        def write(self, ref: InvolvedRollout, key: str, record: DecisionRecord) -> None:
            self.down = len(self.entries) >= 1
            super().write(ref, key, record)

    log = RefusesSecond(Calls())
    records = [
        DecisionRecord(time="2026-11-25T12:00:00Z", action="hold", key=f"g1-s0-w{n}", reasoning="r")
        for n in (1, 2, 3)
    ]
    status = AIRolloutStatus(pending_records=[r.model_dump(mode="json") for r in records])

    left, refused = pending_records.flush(log, REF, status)

    assert refused
    assert list(log.entries) == ["g1-s0-w1"]
    assert [entry["key"] for entry in left.pending_records] == ["g1-s0-w2", "g1-s0-w3"]


def test_a_logged_record_leaves_the_status_with_the_next_write_and_is_not_written_again() -> None:
    harness = Harness()
    judge_first_window(harness)
    assert [r["key"] for r in harness.body["status"]["pendingRecords"]] == ["g1-s0-w1"]
    assert list(harness.log.entries) == ["g1-s0-w1"], "logged right after the status"

    harness.reconcile()  # 25 % in effect: a status write that happens anyway
    assert harness.calls.names().count("write-status") == 1
    assert "log-decision" not in harness.calls.names()
    assert harness.body["status"]["pendingRecords"] == []


def test_a_logged_record_alone_costs_no_status_write_of_its_own() -> None:
    harness = Harness()
    judge_first_window(harness)
    harness.router.ready = False  # 25 % not in effect yet: nothing else to write
    harness.reconcile()
    assert "write-status" not in harness.calls.names()
    assert [r["key"] for r in harness.body["status"]["pendingRecords"]] == ["g1-s0-w1"]
