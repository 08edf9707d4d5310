"""The base revision on a real cluster: the first rollout of a target promotes `v2`, the
operator remembers it on the Deployment, and the second rollout's selection Job (run for
real by the pod runner) is given `v2` as AIROLLOUT_BASE_REVISION."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from airollout.adapters.traffic.target_annotations import PROMOTED_REVISION
from tests.e2e.operator_harness import create_rollout, create_target, rollout_manifest, status_of
from tests.e2e.test_selection_jobs import FINISHED, JOBS_SECONDS, job_template, runner

pytestmark = pytest.mark.e2e
__all__ = ["runner"]  # the module-scoped pod runner fixture, used here by name

# The selection pod: an empty plan whose reasoning quotes the revisions it was given.
SELECT = """
import json, os
plan = {"full_suite": False, "tests": [], "shards": [], "risk_tier": "low",
        "reasoning": "base=%s head=%s" % (os.environ["AIROLLOUT_BASE_REVISION"],
                                          os.environ["AIROLLOUT_REVISION"])}
path = os.environ.get("AIROLLOUT_TERMINATION_MESSAGE_PATH", "/dev/termination-log")
open(path, "w").write(json.dumps(plan, separators=(",", ":")))
"""


def selecting(name: str, revision: str, repo: Path) -> dict[str, Any]:
    manifest = rollout_manifest(
        name,
        revision=revision,
        traffic={"slices": [100]},
        analysis={"interval": "5s", "warmup": "1s"},
        selection={"jobTemplate": job_template(SELECT, repo)},
    )
    del manifest["spec"]["onHold"]
    return manifest


def finished(api: client.ApiClient, namespace: str, name: str, eventually: Any) -> Any:
    def check() -> dict[str, Any] | None:
        status = status_of(api, namespace, name)
        return status if status.get("phase") in FINISHED and not status.get("awaiting") else None

    return eventually(check, JOBS_SECONDS, f"{name} finished")


def test_the_second_rollout_s_selection_job_diffs_from_the_first_one_s_revision(
    kube_api: client.ApiClient,
    namespace: str,
    runner: Any,
    operator: Any,
    tmp_path: Path,
    eventually: Any,
) -> None:
    create_target(kube_api, namespace)
    create_rollout(kube_api, namespace, selecting("web-v2", "v2", tmp_path))
    first = finished(kube_api, namespace, "web-v2", eventually)
    assert first["phase"] == "Succeeded", first.get("message")
    assert first["testPlan"]["reasoning"] == "base= head=v2", "no rollout promoted before"
    web = client.AppsV1Api(kube_api).read_namespaced_deployment("web", namespace)
    assert web.metadata.annotations[PROMOTED_REVISION] == "v2"

    create_rollout(kube_api, namespace, selecting("web-v3", "v3", tmp_path))
    second = finished(kube_api, namespace, "web-v3", eventually)
    assert second["testPlan"]["reasoning"] == "base=v2 head=v3", json.dumps(second)
    assert second["phase"] == "Succeeded", second.get("message")
    web = client.AppsV1Api(kube_api).read_namespaced_deployment("web", namespace)
    assert web.metadata.annotations[PROMOTED_REVISION] == "v3"
