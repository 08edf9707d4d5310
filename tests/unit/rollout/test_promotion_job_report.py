"""The promotion Job: what it is told (the plan, the tests' totals) and its report, one JSON
line in its termination message, read back into PromotionScored or PromotionJobFailed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airollout.core.rollout.actions import JobKind
from airollout.core.rollout.inputs import PromotionJobFailed, PromotionScored
from airollout.core.rollout.jobs import (
    JobRequest,
    JobView,
    PodView,
    inputs_env,
    job_manifest,
    outcome,
)

pytestmark = pytest.mark.unit

KEY = "g1-promotion"
TESTS = {"passed": 40, "failed": 0, "skipped": 2, "failing": []}
GOOD = {
    "score": 0.953,
    "decision": "auto-promote",
    "blocks": [],
    "signals": {"tests": {"total": 42, "failed": 0, "skipped": 2}},
    "contributions": [{"feature": "tests_failed", "logit": -0.4}],
    "model": "default-v1",
}


def finished(message: str, failed: bool = False) -> JobView:
    pod = PodView(index=None, phase="Failed" if failed else "Succeeded", message=message)
    failure = "BackoffLimitExceeded: Job has reached the specified backoff limit" if failed else ""
    return JobView("web-g1-promotion", complete=not failed, failed=failed, failure=failure,
                   pods=(pod,))  # fmt: skip


def line(**changes: Any) -> str:
    return json.dumps({**GOOD, **changes}, separators=(",", ":"))


def test_the_report_becomes_the_score_decision_and_what_they_rest_on() -> None:
    event = outcome(JobKind.PROMOTION, KEY, finished("scoring...\n" + line()))
    assert event == PromotionScored(
        KEY,
        0.953,
        decision="auto-promote",
        blocks=(),
        signals=GOOD["signals"],
        contributions=({"feature": "tests_failed", "logit": -0.4},),
        model="default-v1",
    )


def test_a_report_from_a_job_that_exited_non_zero_still_counts() -> None:
    blocked = line(score=0.4, decision="block", blocks=["1 test failed"])
    event = outcome(JobKind.PROMOTION, KEY, finished(blocked, failed=True))
    assert isinstance(event, PromotionScored)
    assert event.blocks == ("1 test failed",)


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("", "holds no JSON report"),
        ("Traceback (most recent call last): boom", "holds no JSON report"),
        (line(score="high"), "score is not a number"),
        (line(score=True), "score is not a number"),
        (line(score=1.5), "score 1.5 is not in [0, 1]"),
        (line(decision="ship-it"), 'decision "ship-it" is not one of'),
        (json.dumps({"score": 0.9}), 'decision "None" is not one of'),
        (line(blocks="tests failed"), "blocks are not a list of reasons"),
        (line(signals=[1]), "signals are not an object"),
        (line(contributions=[1]), "contributions are not a list of objects"),
    ],
)
def test_a_missing_or_invalid_report_fails_the_job_saying_what_is_wrong(
    message: str, words: str
) -> None:
    event = outcome(JobKind.PROMOTION, KEY, finished(message))
    assert isinstance(event, PromotionJobFailed)
    assert event.key == KEY
    assert words in event.reason
    assert "web-g1-promotion" in event.reason


def test_a_failed_job_without_a_report_quotes_its_failure_and_its_pod() -> None:
    event = outcome(JobKind.PROMOTION, KEY, finished("ModuleNotFoundError: x", failed=True))
    assert isinstance(event, PromotionJobFailed)
    assert "BackoffLimitExceeded" in event.reason
    assert "ModuleNotFoundError" in event.reason


def test_a_running_job_has_no_outcome_yet() -> None:
    running = JobView("web-g1-promotion", complete=False, failed=False)
    assert outcome(JobKind.PROMOTION, KEY, running) is None


def test_the_promotion_job_is_told_the_plan_and_the_tests_totals() -> None:
    plan = {"shards": [["t.py::a"]]}
    env = inputs_env("abc123", "abc100", "web", plan, TESTS)
    assert json.loads(env["AIROLLOUT_TEST_RESULTS"]) == TESTS
    assert " " not in env["AIROLLOUT_TEST_RESULTS"], "compact JSON"
    assert json.loads(env["AIROLLOUT_TEST_PLAN"]) == plan
    template = {"spec": {"template": {"spec": {"containers": [{"name": "score"}]}}}}
    job = job_manifest(JobRequest(JobKind.PROMOTION, KEY, "web", "shop", "u1", template, 600, env))
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "AIROLLOUT_REVISION", "value": "abc123"} in container["env"]
    assert job["spec"]["backoffLimit"] == 0
    assert "completions" not in job["spec"]
    assert job["metadata"]["labels"]["airollout.dev/job-kind"] == "promotion"


def test_without_tests_no_results_are_passed_on() -> None:
    assert "AIROLLOUT_TEST_RESULTS" not in inputs_env("abc123", None, "web", None)
