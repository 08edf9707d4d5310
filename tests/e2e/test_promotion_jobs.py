"""The promotion Job for real: the pod runner runs its pod as a host process, the operator
reads its report from the termination message, and each tier takes its path (auto-promote
to Succeeded; review, then `airollout approve`, to Succeeded; block to Blocked). With
selection and tests too, all three Jobs run and the promotion Job, `airollout promotion
score` itself, reads the tests' totals."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.e2e.operator_harness import (
    AIROLLOUT,
    NEW_IMAGE,
    create_rollout,
    create_target,
    decision_log,
    rollout_events,
    rollout_manifest,
    status_of,
)
from tests.e2e.test_selection_jobs import SAMPLE_TESTS, SELECT, SHARD, job_template, jobs_of
from tests.support.pod_runner import pod_runner

pytestmark = pytest.mark.e2e

JOBS_SECONDS = 180.0
SETTLED = {"Succeeded", "RolledBack", "Failed", "Blocked", "AwaitingApproval"}

# The promotion pod: the report `airollout promotion score --json` prints, fixed by the test,
# with the revision the operator passed on among its signals.
SCORE = """
import json, os
report = json.loads(os.environ["FIXED_REPORT"])
report["signals"]["revision"] = os.environ["AIROLLOUT_REVISION"]
print("scoring", os.environ["AIROLLOUT_ROLLOUT"])
path = os.environ.get("AIROLLOUT_TERMINATION_MESSAGE_PATH", "/dev/termination-log")
open(path, "w").write(json.dumps(report, separators=(",", ":")))
"""


# The promotion pod of the full pipeline: the real `airollout promotion score`, on a JUnit
# report of the tests Job's totals (what the operator passed on in AIROLLOUT_TEST_RESULTS).
CLI_SCORE = """
import json, os, subprocess, sys, tempfile
results = json.loads(os.environ["AIROLLOUT_TEST_RESULTS"])
cases = ['<testcase classname="shard" name="ok%d"/>' % i for i in range(results["passed"])]
cases += ['<testcase classname="shard" name="%s"><failure message="failed"/></testcase>' % name
          for name in results["failing"]]
cases += ['<testcase classname="shard" name="skip%d"><skipped/></testcase>' % i
          for i in range(results["skipped"])]
junit = os.path.join(tempfile.mkdtemp(), "junit.xml")
open(junit, "w").write('<testsuite name="selected" tests="%d">%s</testsuite>'
                       % (len(cases), "".join(cases)))
path = os.environ.get("AIROLLOUT_TERMINATION_MESSAGE_PATH", "/dev/termination-log")
sys.exit(subprocess.run([sys.executable, "-m", "airollout.cli.main", "promotion", "score",
                         "--junit", junit, "--json", "--termination-log", path]).returncode)
"""
TIER_PHASES = {"auto-promote": "Succeeded", "manual-review": "AwaitingApproval", "block": "Blocked"}


def report(score: float, decision: str, blocks: list[str] | None = None) -> dict[str, Any]:
    return {
        "score": score,
        "decision": decision,
        "blocks": blocks or [],
        "signals": {},
        "contributions": [{"feature": "tests_failed", "logit": -0.4}],
        "model": "e2e-v1",
    }


@pytest.fixture(scope="module")
def runner(cluster: Any) -> Iterator[Any]:
    with pod_runner(cluster) as started:
        yield started


def promotion_section(repo: Path, said: dict[str, Any]) -> dict[str, Any]:
    template = job_template(SCORE, repo, {"FIXED_REPORT": json.dumps(said)})
    return {"jobTemplate": template, "thresholds": {"autoPromote": 0.9, "manualReview": 0.7}}


def scored_rollout(
    name: str, repo: Path, said: dict[str, Any] | None, **spec: Any
) -> dict[str, Any]:
    """`said`: the report the promotion Job prints; None: spec names its own promotion."""
    if said is not None:
        spec["promotion"] = promotion_section(repo, said)
    manifest = rollout_manifest(
        name,
        traffic={"slices": [100]},  # no analysis: the promotion gate is what this is about
        analysis={"interval": "5s", "warmup": "1s"},
        **spec,
    )
    del manifest["spec"]["onHold"]
    return manifest


def settled(api: client.ApiClient, namespace: str, name: str, eventually: Any) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        status = status_of(api, namespace, name)
        done = status.get("phase") in SETTLED and not status.get("awaiting")
        return status if done else None

    return dict(eventually(check, JOBS_SECONDS, f"{name} to settle"))


@pytest.fixture
def rollout(
    kube_api: client.ApiClient, namespace: str, runner: Any, operator: Any, tmp_path: Path
) -> Any:
    """`rollout(report, eventually)`: the settled status of web-v2 whose Job says `report`."""

    def run(said: dict[str, Any] | None, eventually: Any, **spec: Any) -> dict[str, Any]:
        create_target(kube_api, namespace)
        create_rollout(kube_api, namespace, scored_rollout("web-v2", tmp_path, said, **spec))
        return settled(kube_api, namespace, "web-v2", eventually)

    return run


def image_of_web(api: client.ApiClient, namespace: str) -> str:
    web = client.AppsV1Api(api).read_namespaced_deployment("web", namespace)
    return str(web.spec.template.spec.containers[0].image)


def test_a_score_above_auto_promote_goes_to_succeeded_and_is_logged(
    kube_api: client.ApiClient, namespace: str, rollout: Any, eventually: Any
) -> None:
    status = rollout(report(0.96, "auto-promote"), eventually)

    assert status["phase"] == "Succeeded", status["message"]
    assert status["promotion"]["score"] == 0.96
    assert status["promotion"]["decision"] == "auto-promote"
    assert status["promotion"]["signals"]["revision"] == "v2", "inputs reach the Job"
    assert image_of_web(kube_api, namespace) == NEW_IMAGE
    logged = decision_log(kube_api, namespace, "web-v2")["g1-promotion"]
    assert (logged["action"], logged["promotion"]["score"]) == ("auto-promote", 0.96)
    assert set(jobs_of(kube_api, namespace)) == {"web-v2-g1-promotion"}


def test_a_score_in_review_waits_until_airollout_approve_then_succeeds(
    kube_api: client.ApiClient, namespace: str, rollout: Any, eventually: Any, cluster: Any
) -> None:
    status = rollout(report(0.8, "manual-review"), eventually)
    assert (status["phase"], status["reason"]) == ("AwaitingApproval", "ManualReview")
    assert status.get("weight", 0) == 0

    approved = subprocess.run(
        [*AIROLLOUT, "approve", "web-v2", "-n", namespace, "--by", "reviewer"],
        env={"KUBECONFIG": str(cluster.kubeconfig), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert approved.returncode == 0, approved.stderr

    def succeeded() -> dict[str, Any] | None:
        now = status_of(kube_api, namespace, "web-v2")
        return now if now.get("phase") == "Succeeded" and not now.get("awaiting") else None

    final = eventually(succeeded, JOBS_SECONDS, "Succeeded after the approval")
    assert final["promotion"]["decision"] == "manual-review"
    reasons = {
        event.reason: event.message for event in rollout_events(kube_api, namespace, "web-v2")
    }
    assert "reviewer" in reasons["Approved"]


def test_a_hard_block_leaves_the_rollout_blocked_with_its_reasons(
    kube_api: client.ApiClient, namespace: str, rollout: Any, eventually: Any
) -> None:
    said = report(0.97, "block", ["1 test failed: tests/test_pay.py::test_refund"])
    status = rollout(said, eventually)

    assert (status["phase"], status["reason"]) == ("Blocked", "PromotionBlocked")
    assert "1 test failed: tests/test_pay.py::test_refund" in status["message"]
    assert status["promotion"]["blocks"] == said["blocks"]
    assert status.get("weight", 0) == 0
    assert image_of_web(kube_api, namespace) != NEW_IMAGE


def test_selection_tests_and_promotion_run_all_three_jobs_in_order(
    kube_api: client.ApiClient, namespace: str, rollout: Any, eventually: Any, tmp_path: Path
) -> None:
    repo = tmp_path / "sample"
    repo.mkdir()
    (repo / "test_sample.py").write_text(SAMPLE_TESTS)
    shards = [["test_sample.py::test_ok_a"], ["test_sample.py::test_ok_b"]]
    plan = {"full_suite": False, "tests": [t for shard in shards for t in shard], "shards": shards}
    status = rollout(
        None,
        eventually,
        selection={"jobTemplate": job_template(SELECT, repo, {"FIXED_PLAN": json.dumps(plan)})},
        tests={"jobTemplate": job_template(SHARD, repo), "maxParallelism": 2},
        promotion={"jobTemplate": job_template(CLI_SCORE, repo)},
    )

    assert status["tests"]["passed"] == 2
    verdict = status["promotion"]
    assert verdict["signals"]["tests"] == {"total": 2, "failed": 0, "skipped": 0}, "from JUnit"
    assert verdict["model"] == "default-v1", "the real scorer's report"
    assert verdict["contributions"], "each signal's share is shown"
    assert status["phase"] == TIER_PHASES[verdict["decision"]], status["message"]
    jobs = jobs_of(kube_api, namespace)
    assert set(jobs) == {"web-v2-g1-selection", "web-v2-g1-tests", "web-v2-g1-promotion"}
    started = {name: job.metadata.creation_timestamp for name, job in jobs.items()}
    assert started["web-v2-g1-tests"] <= started["web-v2-g1-promotion"]


def test_an_unanswered_review_is_rejected_once_review_timeout_passes(
    kube_api: client.ApiClient, namespace: str, runner: Any, operator: Any, tmp_path: Path,
    eventually: Any,
) -> None:  # fmt: skip
    manifest = scored_rollout("web-v2", tmp_path, report(0.8, "manual-review"))
    manifest["spec"]["promotion"] |= {"reviewTimeout": "3s", "onReviewTimeout": "reject"}
    create_target(kube_api, namespace)
    create_rollout(kube_api, namespace, manifest)

    def failed() -> dict[str, Any] | None:
        now = status_of(kube_api, namespace, "web-v2")
        return now if now.get("phase") == "Failed" else None

    status = eventually(failed, JOBS_SECONDS, "Failed once the review timed out")
    assert status["reason"] == "ReviewTimedOut", status["message"]
    assert "onReviewTimeout is reject" in status["message"]
    assert status.get("weight", 0) == 0
    assert image_of_web(kube_api, namespace) != NEW_IMAGE
