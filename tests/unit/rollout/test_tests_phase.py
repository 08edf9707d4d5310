"""Phase Testing: the plan's shards run before any traffic moves; a failing test fails it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from airollout.core.resource.status import Phase
from airollout.core.rollout.actions import CreateJob, JobKind, Rollback, SetWeight
from airollout.core.rollout.gates import failing_tests_message
from airollout.core.rollout.inputs import (
    PausedChanged,
    Resume,
    SelectionFinished,
    ShardsFinished,
    ShardsJobFailed,
    Start,
)
from tests.support.rollout_driver import PLAIN_SPEC, Driver, of_type

pytestmark = pytest.mark.unit

TESTED = replace(PLAIN_SPEC, selection=True, tests=True)
PLAN = {"full_suite": False, "tests": ["t.py::a", "t.py::b"], "shards": [["t.py::a"], ["t.py::b"]]}


def planned(spec: object = TESTED) -> tuple[Driver, tuple[object, ...]]:
    driver = Driver(spec=spec)  # type: ignore[arg-type]
    driver.send(Start())
    return driver, driver.send(SelectionFinished("g1-selection", PLAN))


def test_the_plan_lands_in_the_status_and_the_tests_job_is_asked_for() -> None:
    driver, actions = planned()
    assert driver.status.phase is Phase.TESTING
    assert driver.status.test_plan == PLAN
    assert driver.status.awaiting == "g1-tests"
    assert of_type(actions, CreateJob) == [CreateJob(JobKind.TESTS, "g1-tests")]
    assert of_type(actions, SetWeight) == []


def test_without_spec_tests_the_plan_is_kept_and_traffic_starts() -> None:
    driver, actions = planned(replace(TESTED, tests=False))
    assert driver.status.phase is Phase.PROGRESSING
    assert driver.status.test_plan == PLAN
    assert of_type(actions, SetWeight) == [SetWeight(weight=10, key="g1-s0-weight")]


def test_a_plan_without_shards_has_nothing_to_run_and_traffic_starts() -> None:
    driver = Driver(spec=TESTED)
    driver.send(Start())
    driver.send(SelectionFinished("g1-selection", {"tests": [], "shards": []}))
    assert driver.status.phase is Phase.PROGRESSING


def test_passing_tests_record_their_totals_then_traffic_starts() -> None:
    driver, _ = planned()
    actions = driver.send(ShardsFinished("g1-tests", passed=2, failed=0, skipped=1))
    assert driver.status.phase is Phase.PROGRESSING
    assert driver.status.tests == {"passed": 2, "failed": 0, "skipped": 1, "failing": []}
    assert of_type(actions, SetWeight) == [SetWeight(weight=10, key="g1-s0-weight")]


def test_failing_tests_fail_the_rollout_naming_them_and_no_traffic_moves() -> None:
    driver, _ = planned()
    actions = driver.send(ShardsFinished("g1-tests", 1, 1, 0, ("t.py::b",)))
    assert (driver.status.phase, driver.status.reason) == (Phase.FAILED, "TestsFailed")
    assert "t.py::b" in driver.status.message
    assert driver.status.tests is not None
    assert driver.status.tests["failing"] == ["t.py::b"]
    assert of_type(actions, SetWeight) == []
    assert of_type(actions, Rollback) == []


def test_a_tests_job_that_fails_without_reports_fails_the_rollout_saying_why() -> None:
    driver, _ = planned()
    driver.send(ShardsJobFailed("g1-tests", "Job x: DeadlineExceeded: too long"))
    assert (driver.status.phase, driver.status.reason) == (Phase.FAILED, "TestsJobFailed")
    assert "DeadlineExceeded" in driver.status.message


def test_a_result_under_another_key_is_ignored() -> None:
    driver, _ = planned()
    before = driver.status
    assert driver.send(ShardsFinished("g0-tests", 0, 3, 0)) == ()
    assert driver.status == before


def test_resuming_a_paused_tests_phase_asks_for_the_same_job_again() -> None:
    driver, _ = planned()
    driver.send(PausedChanged(paused=True))
    assert driver.status.phase is Phase.PAUSED
    actions = driver.send(Resume())
    assert driver.status.phase is Phase.TESTING
    assert of_type(actions, CreateJob) == [CreateJob(JobKind.TESTS, "g1-tests")]


def test_the_failure_message_names_ten_tests_and_counts_the_rest() -> None:
    failing = tuple(f"t.py::f{n}" for n in range(12))
    message = failing_tests_message(ShardsFinished("k", 3, 12, 0, failing))
    assert "12 of 15 selected tests failed" in message
    assert "t.py::f9" in message
    assert "t.py::f10" not in message
    assert message.endswith("and 2 more.")
