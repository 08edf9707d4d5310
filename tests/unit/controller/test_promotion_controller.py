"""The promotion Job through the reconcile loop over fakes: the Job is made with the tests'
totals, its report lands in status.promotion and the decision log, and the approve and
reject annotations answer a review (and are refused elsewhere)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from airollout.core.rollout.jobs import JobView, PodView
from tests.support.controller_fakes import Harness, rollout_body

pytestmark = pytest.mark.unit

CONTAINER = {"name": "score", "image": "score:1"}
PROMOTION = {
    "jobTemplate": {"spec": {"template": {"spec": {"containers": [CONTAINER]}}}},
    "thresholds": {"autoPromote": 0.9, "manualReview": 0.7},
}
JOB = "web-v2-g1-promotion"


class FakeJobs:
    """Jobs as the adapter shows them: created manifests, and a report once 'finished'."""

    def __init__(self) -> None:
        self.created: dict[str, Mapping[str, Any]] = {}
        self.reports: dict[str, str | tuple[PodView, ...]] = {}  # a report, or the pods

    def ensure(self, manifest: Mapping[str, Any]) -> None:
        self.created.setdefault(manifest["metadata"]["name"], manifest)

    def view(self, namespace: str, name: str) -> JobView | None:
        if name not in self.created:
            return None
        if name not in self.reports:
            return JobView(name, complete=False, failed=False)
        said = self.reports[name]
        pods = (PodView(None, "Succeeded", said),) if isinstance(said, str) else said
        return JobView(name, complete=True, failed=False, pods=pods)


def harness_with_jobs(**spec: Any) -> tuple[Harness, FakeJobs]:
    harness, jobs = Harness(), FakeJobs()
    harness.reconciler.actor.jobs = jobs  # type: ignore[assignment]
    harness.reconciler.sensor.jobs = jobs  # type: ignore[assignment]
    harness.body = rollout_body(promotion=PROMOTION, revision="abc123", **spec)
    return harness, jobs


def scored(score: float, decision: str, **spec: Any) -> tuple[Harness, FakeJobs]:
    harness, jobs = harness_with_jobs(**spec)
    harness.reconcile()
    assert harness.body["status"]["phase"] == "Evaluating"
    harness.reconcile()  # the follow-up creates the awaited Job if acting did not
    contributions = [{"feature": "tests_failed", "logit": -0.4}]
    report = {"score": score, "decision": decision, "blocks": [], "signals": {"tests": {}}}
    report |= {"contributions": contributions, "model": "m1"}
    jobs.reports[JOB] = json.dumps(report)
    harness.reconcile()
    return harness, jobs


def test_the_promotion_job_is_made_from_spec_promotion_with_the_rollouts_inputs() -> None:
    harness, jobs = harness_with_jobs()
    harness.reconcile()
    [job] = jobs.created.values()
    env = {
        item["name"]: item["value"]
        for item in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["AIROLLOUT_REVISION"] == "abc123"
    assert env["AIROLLOUT_ROLLOUT"] == "web-v2"
    assert "AIROLLOUT_TEST_RESULTS" not in env, "no tests ran"
    assert job["spec"]["activeDeadlineSeconds"] == 600, "spec.promotion.activeDeadline default"


def test_an_auto_promote_report_starts_traffic_and_is_logged_with_its_score() -> None:
    harness, _ = scored(0.95, "auto-promote")
    status = harness.body["status"]
    assert (status["phase"], status["weight"]) == ("Progressing", 10)
    assert status["promotion"]["score"] == 0.95
    assert status["promotion"]["model"] == "m1"
    logged = harness.log.entries["g1-promotion"]
    assert logged.action == "auto-promote"
    assert logged.promotion["score"] == 0.95, "the feedback loop reads it from the log"


def test_approve_annotation_answers_a_review_and_is_removed() -> None:
    harness, _ = scored(0.8, "manual-review")
    assert harness.body["status"]["phase"] == "AwaitingApproval"
    harness.body["metadata"]["annotations"] = {
        "airollout.dev/action": "approve",
        "airollout.dev/action-by": "alice",
    }
    harness.reconcile()
    status = harness.body["status"]
    assert (status["phase"], status["reason"]) == ("Progressing", "Approved")
    assert ("event", "Approved") in harness.calls
    [(_, patch)] = [call for call in harness.calls if call[0] == "patch-object"]
    assert patch["metadata"]["annotations"]["airollout.dev/action"] is None


def test_reject_annotation_fails_a_review_before_traffic_moves() -> None:
    harness, _ = scored(0.8, "manual-review")
    harness.body["metadata"]["annotations"] = {"airollout.dev/action": "reject"}
    harness.reconcile()
    status = harness.body["status"]
    assert (status["phase"], status["reason"], status["weight"]) == ("Failed", "Rejected", 0)
    assert "set-weight" not in harness.calls.names()


def test_approve_outside_a_review_is_refused_out_loud() -> None:
    harness, _ = scored(0.95, "auto-promote")
    harness.body["metadata"]["annotations"] = {"airollout.dev/action": "approve"}
    harness.reconcile()
    assert ("event", "RequestRefused") in harness.calls
    assert harness.body["status"]["phase"] == "Progressing"


def env_of(job: Mapping[str, Any]) -> dict[str, str]:
    return {
        item["name"]: item["value"]
        for item in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }


def test_after_the_tests_the_promotion_job_gets_their_totals_and_the_plan() -> None:
    section = {"jobTemplate": PROMOTION["jobTemplate"]}
    harness, jobs = harness_with_jobs(selection=section, tests=section)
    harness.reconcile()
    jobs.reports["web-v2-g1-selection"] = json.dumps({"tests": ["t::a"], "shards": [["t::a"]]})
    harness.reconcile()
    assert harness.body["status"]["phase"] == "Testing"
    shard = json.dumps({"passed": 1, "failed": 0, "skipped": 0})
    jobs.reports["web-v2-g1-tests"] = (PodView(0, "Succeeded", shard),)
    harness.reconcile()
    assert harness.body["status"]["phase"] == "Evaluating"

    env = env_of(jobs.created[JOB])
    assert json.loads(env["AIROLLOUT_TEST_RESULTS"]) == {
        "passed": 1,
        "failed": 0,
        "skipped": 0,
        "failing": [],
    }
    assert json.loads(env["AIROLLOUT_TEST_PLAN"])["shards"] == [["t::a"]]
