"""The rollout's Jobs: named from their key, built from the spec's template, and read back
into the machine's inputs from their pods' termination messages."""

from __future__ import annotations

import json

import pytest

from airollout.core.rollout.actions import JobKind
from airollout.core.rollout.inputs import (
    SelectionFailed,
    SelectionFinished,
    ShardsFinished,
    ShardsJobFailed,
)
from airollout.core.rollout.jobs import (
    MAX_NAME,
    JobRequest,
    JobView,
    PodView,
    inputs_env,
    job_kind_of,
    job_manifest,
    job_name,
    outcome,
    report,
    shard_reports,
)

pytestmark = pytest.mark.unit

TEMPLATE = {
    "metadata": {"labels": {"team": "qa"}},
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {"name": "select", "command": ["select"], "env": [
                        {"name": "KEEP", "value": "1"},
                        {"name": "AIROLLOUT_ROLLOUT", "value": "spoofed"},
                    ]}
                ]
            }
        }
    },
}  # fmt: skip
PLAN = {"tests": ["t.py::a", "t.py::b"], "shards": [["t.py::a"], ["t.py::b"]]}


def request(kind: JobKind = JobKind.SELECTION, **changes: object) -> JobRequest:
    fields: dict[str, object] = {
        "kind": kind,
        "key": f"g2-{kind.value}",
        "rollout": "checkout",
        "namespace": "shop",
        "uid": "u-1",
        "template": TEMPLATE,
        "deadline_s": 600,
        "env": inputs_env("abc123", None, "checkout", PLAN if kind is JobKind.TESTS else None),
    }
    fields.update(changes)
    return JobRequest(**fields)  # type: ignore[arg-type]


def env_of(manifest: dict[str, object]) -> dict[str, str]:
    container = manifest["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    return {item["name"]: item["value"] for item in container["env"]}


def test_a_job_is_named_from_its_key_and_stays_a_valid_label_value() -> None:
    assert job_name("checkout", "g2-selection") == "checkout-g2-selection"
    long = job_name("a" * 80, "g12-tests")
    assert len(long) <= MAX_NAME
    assert long.endswith("-g12-tests")
    assert long != job_name("a" * 79 + "b", "g12-tests"), "the digest keeps long names apart"


def test_a_job_key_says_which_job_it_is_and_other_keys_name_none() -> None:
    assert job_kind_of("g1-selection") is JobKind.SELECTION
    assert job_kind_of("g3-tests") is JobKind.TESTS
    assert job_kind_of("g1-s0-weight") is None
    assert job_kind_of(None) is None


def test_the_selection_job_is_owned_time_limited_and_gets_its_inputs_in_env() -> None:
    manifest = job_manifest(request())
    meta = manifest["metadata"]
    assert meta["name"] == "checkout-g2-selection"
    assert meta["namespace"] == "shop"
    assert meta["ownerReferences"][0]["uid"] == "u-1"
    assert meta["ownerReferences"][0]["kind"] == "AIRollout"
    assert meta["labels"]["team"] == "qa"
    assert meta["labels"]["airollout.dev/rollout"] == "checkout"
    assert manifest["spec"]["activeDeadlineSeconds"] == 600
    assert manifest["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    env = env_of(manifest)
    assert env["AIROLLOUT_REVISION"] == "abc123"
    assert env["AIROLLOUT_BASE_REVISION"] == ""
    assert env["AIROLLOUT_ROLLOUT"] == "checkout", "the operator's inputs win over the template's"
    assert env["KEEP"] == "1"
    assert "AIROLLOUT_TEST_PLAN" not in env
    assert TEMPLATE["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] == "spoofed"


def test_a_deadline_in_the_template_is_kept() -> None:
    template = {"spec": {**TEMPLATE["spec"], "activeDeadlineSeconds": 30}}
    assert job_manifest(request(template=template))["spec"]["activeDeadlineSeconds"] == 30


def test_the_tests_job_is_indexed_one_pod_per_shard_with_parallelism_capped() -> None:
    template = {"spec": {**TEMPLATE["spec"], "parallelism": 50}}
    manifest = job_manifest(request(JobKind.TESTS, template=template, shards=6, max_parallelism=4))
    spec = manifest["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 6, 4)
    assert spec["backoffLimitPerIndex"] == 0, "a failing shard does not stop the others"
    assert json.loads(env_of(manifest)["AIROLLOUT_TEST_PLAN"]) == PLAN


def test_a_report_is_the_last_json_object_line_of_a_termination_message() -> None:
    assert report('collected 2 items\n{"passed": 2}\n') == {"passed": 2}
    assert report('{"a": 1}\n{"b": 2}') == {"b": 2}
    assert report("Traceback (most recent call last):\n  boom") is None
    assert report("[1, 2]") is None


def pod(index: int | None, phase: str, message: str, created: str = "t1") -> PodView:
    return PodView(index=index, phase=phase, message=message, created=created)


def test_a_running_job_gives_no_input() -> None:
    running = JobView("j", complete=False, failed=False, pods=(pod(0, "Running", ""),))
    assert outcome(JobKind.SELECTION, "g1-selection", running) is None


def test_a_complete_selection_job_gives_the_plan_from_its_pod() -> None:
    job = JobView(
        "j", complete=True, failed=False, pods=(pod(None, "Succeeded", json.dumps(PLAN)),)
    )
    assert outcome(JobKind.SELECTION, "g1-selection", job) == SelectionFinished(
        "g1-selection", PLAN
    )


def test_a_complete_selection_job_without_a_plan_is_a_failure_saying_so() -> None:
    job = JobView("j", complete=True, failed=False, pods=(pod(None, "Succeeded", "done"),))
    result = outcome(JobKind.SELECTION, "g1-selection", job)
    assert isinstance(result, SelectionFailed)
    assert "no JSON plan" in result.reason
    bad = JobView("j", True, False, pods=(pod(None, "Succeeded", '{"shards": [1]}'),))
    result = outcome(JobKind.SELECTION, "g1-selection", bad)
    assert isinstance(result, SelectionFailed)
    assert "shards" in result.reason


def test_a_failed_selection_job_names_the_job_the_reason_and_what_its_pod_said() -> None:
    job = JobView(
        "checkout-g1-selection",
        complete=False,
        failed=True,
        failure="DeadlineExceeded: Job was active longer than specified deadline",
        pods=(pod(None, "Failed", "index is stale"),),
    )
    result = outcome(JobKind.SELECTION, "g1-selection", job)
    assert isinstance(result, SelectionFailed)
    assert "checkout-g1-selection" in result.reason
    assert "DeadlineExceeded" in result.reason
    assert "index is stale" in result.reason


def shard(passed: int, failed: int, failing: list[str]) -> str:
    return json.dumps({"passed": passed, "failed": failed, "skipped": 0, "failing": failing})


def test_a_complete_tests_job_sums_its_shards() -> None:
    pods = (pod(0, "Succeeded", shard(3, 0, [])), pod(1, "Succeeded", shard(2, 0, [])))
    result = outcome(JobKind.TESTS, "g1-tests", JobView("j", True, False, pods=pods))
    assert result == ShardsFinished("g1-tests", passed=5, failed=0, skipped=0, failing=())


def test_a_failed_tests_job_with_failing_tests_reports_them() -> None:
    pods = (pod(0, "Succeeded", shard(3, 0, [])), pod(1, "Failed", shard(1, 1, ["t.py::b"])))
    result = outcome(JobKind.TESTS, "g1-tests", JobView("j", False, True, "F: m", pods=pods))
    assert result == ShardsFinished("g1-tests", 4, 1, 0, ("t.py::b",))


def test_a_failed_tests_job_without_failing_tests_names_the_silent_shards() -> None:
    pods = (pod(0, "Succeeded", shard(3, 0, [])), pod(1, "Failed", "killed"))
    job = JobView("j", False, True, "DeadlineExceeded: too long", pods=pods)
    result = outcome(JobKind.TESTS, "g1-tests", job)
    assert isinstance(result, ShardsJobFailed)
    assert "DeadlineExceeded" in result.reason
    assert "[1]" in result.reason


def test_the_newest_finished_pod_of_an_index_is_the_one_that_counts() -> None:
    pods = (
        pod(0, "Failed", shard(0, 1, ["t.py::a"]), created="2026-01-01T00:00:02"),
        pod(0, "Failed", shard(1, 0, []), created="2026-01-01T00:00:05"),
        pod(1, "Running", shard(9, 9, []), created="2026-01-01T00:00:09"),
    )
    assert shard_reports(pods) == {0: {"passed": 1, "failed": 0, "skipped": 0, "failing": []}}
