"""Test selection and the selected tests as real Jobs: the pod runner runs their pods as
host processes, the real Job controller counts completions, and the operator reads each
pod's termination message (the plan, then every shard's totals)."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.e2e.operator_harness import (
    NEW_IMAGE,
    create_rollout,
    create_target,
    rollout_manifest,
    status_of,
)
from tests.support.pod_runner import on_runner, pod_runner

pytestmark = pytest.mark.e2e

FINISHED = {"Succeeded", "RolledBack", "Failed"}
JOBS_SECONDS = 180.0

SAMPLE_TESTS = """
def test_ok_a():
    assert 1 + 1 == 2

def test_ok_b():
    assert "ab".upper() == "AB"

def test_broken():
    assert [1, 2] == [2, 1]
"""

# The selection pod: prints a fixed plan, as `airollout select plan --json` would, into its
# termination message; the reasoning quotes the inputs the operator gave it.
SELECT = """
import json, os
plan = json.loads(os.environ["FIXED_PLAN"])
plan["reasoning"] = "rev=%s rollout=%s" % (
    os.environ["AIROLLOUT_REVISION"], os.environ["AIROLLOUT_ROLLOUT"])
path = os.environ.get("AIROLLOUT_TERMINATION_MESSAGE_PATH", "/dev/termination-log")
open(path, "w").write(json.dumps(plan, separators=(",", ":")))
"""

# A shard pod: `airollout select run-shard` on the plan the operator passed, its one-line
# JSON report as the termination message, its exit code as the pod's.
SHARD = """
import os, subprocess, sys, tempfile
plan = os.path.join(tempfile.mkdtemp(), "plan.json")
open(plan, "w").write(os.environ["AIROLLOUT_TEST_PLAN"])
done = subprocess.run([sys.executable, "-m", "airollout.cli.main", "select", "run-shard",
    "--plan", plan, "--repo", os.getcwd(), "--python", sys.executable],
    capture_output=True, text=True)
print(done.stdout, done.stderr)
lines = done.stdout.strip().splitlines() or [done.stderr[-500:]]
path = os.environ.get("AIROLLOUT_TERMINATION_MESSAGE_PATH", "/dev/termination-log")
open(path, "w").write(lines[-1])
sys.exit(done.returncode)
"""


@pytest.fixture(scope="module")
def runner(cluster: Any) -> Iterator[Any]:
    with pod_runner(cluster) as started:
        yield started


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "sample"
    repo.mkdir()
    (repo / "test_sample.py").write_text(textwrap.dedent(SAMPLE_TESTS))
    return repo


def job_template(script: str, repo: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    container = {
        "name": "run",
        "image": "unused",
        "command": [sys.executable, "-c", textwrap.dedent(script)],
        "workingDir": str(repo),
        "env": [{"name": name, "value": value} for name, value in (env or {}).items()],
    }
    return {"spec": {"template": {"spec": on_runner({"containers": [container]})}}}


def selected(name: str, repo: Path, shards: list[list[str]]) -> dict[str, Any]:
    plan = {"full_suite": False, "tests": [t for shard in shards for t in shard], "shards": shards}
    manifest = rollout_manifest(
        name,
        traffic={"slices": [100]},  # no analysis: the Jobs are what this test is about
        analysis={"interval": "5s", "warmup": "1s"},
        selection={"jobTemplate": job_template(SELECT, repo, {"FIXED_PLAN": json.dumps(plan)})},
        tests={"jobTemplate": job_template(SHARD, repo), "maxParallelism": 2},
    )
    del manifest["spec"]["onHold"]
    return manifest


@pytest.fixture
def rolled_out(
    kube_api: client.ApiClient, namespace: str, runner: Any, operator: Any, sample_repo: Path
) -> Any:
    """`rolled_out(shards, eventually)`: the finished status of a rollout with that plan."""

    def run(shards: list[list[str]], eventually: Any) -> dict[str, Any]:
        create_target(kube_api, namespace)
        create_rollout(kube_api, namespace, selected("web-v2", sample_repo, shards))

        def check() -> dict[str, Any] | None:
            status = status_of(kube_api, namespace, "web-v2")
            done = status.get("phase") in FINISHED and not status.get("awaiting")
            return status if done else None

        return dict(eventually(check, JOBS_SECONDS, "the end"))

    return run


def jobs_of(api: client.ApiClient, namespace: str) -> dict[str, Any]:
    return {
        job.metadata.name: job
        for job in client.BatchV1Api(api).list_namespaced_job(namespace).items
    }


def test_a_plan_from_the_selection_job_and_passing_shards_lead_to_succeeded(
    kube_api: client.ApiClient, namespace: str, rolled_out: Any, eventually: Any
) -> None:
    shards = [["test_sample.py::test_ok_a"], ["test_sample.py::test_ok_b"]]
    status = rolled_out(shards, eventually)

    assert status["phase"] == "Succeeded", status["message"]
    assert status["testPlan"]["shards"] == shards
    assert status["testPlan"]["reasoning"] == "rev=v2 rollout=web-v2", "inputs reach the Job"
    assert status["tests"] == {"passed": 2, "failed": 0, "skipped": 0, "failing": []}
    jobs = jobs_of(kube_api, namespace)
    assert set(jobs) == {"web-v2-g1-selection", "web-v2-g1-tests"}, "one Job per key"
    tests_job = jobs["web-v2-g1-tests"]
    assert (tests_job.spec.completions, tests_job.spec.completion_mode) == (2, "Indexed")
    assert tests_job.metadata.owner_references[0].kind == "AIRollout"


def test_a_failing_shard_fails_the_rollout_naming_the_test_before_any_traffic_moves(
    kube_api: client.ApiClient, namespace: str, rolled_out: Any, eventually: Any
) -> None:
    shards = [["test_sample.py::test_ok_a"], ["test_sample.py::test_broken"]]
    status = rolled_out(shards, eventually)

    assert (status["phase"], status["reason"]) == ("Failed", "TestsFailed"), status["message"]
    assert "test_sample.py::test_broken" in status["message"]
    assert status["tests"]["failing"] == ["test_sample.py::test_broken"]
    assert status["tests"]["passed"] == 1
    web = client.AppsV1Api(kube_api).read_namespaced_deployment("web", namespace)
    assert web.spec.template.spec.containers[0].image != NEW_IMAGE
    assert status.get("weight", 0) == 0, "no traffic moved"
