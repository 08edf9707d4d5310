"""The last promoted revision: remembered on the target when a promotion ends, handed to the
next rollout's Jobs as AIROLLOUT_BASE_REVISION."""

from __future__ import annotations

from typing import Any

import pytest

from airollout.adapters.traffic.router import RouterError
from airollout.adapters.traffic.target_annotations import (
    PROMOTED_REVISION,
    STABLE_REPLICAS,
    promoted_patch,
)
from airollout.controller.act import Actor
from airollout.controller.snapshot import load
from airollout.core.rollout.actions import CreateJob, JobKind
from tests.support.controller_fakes import Calls, FakeLog, FakeRouter, rollout_body
from tests.unit.controller.test_act import SELECTION, RecordingEvents, RecordingJobs

pytestmark = pytest.mark.unit


def deployment(**annotations: str) -> dict[str, Any]:
    return {"metadata": {"name": "web", "annotations": annotations}}


def test_the_end_of_a_promotion_forgets_the_record_and_remembers_the_revision() -> None:
    patch = promoted_patch(deployment(**{STABLE_REPLICAS: "4"}), "v2")
    assert patch is not None
    annotations = patch["metadata"]["annotations"]
    assert annotations[PROMOTED_REVISION] == "v2"
    assert annotations[STABLE_REPLICAS] is None, "the rollout's record is forgotten"


def test_a_repeated_end_writes_nothing_and_a_rollout_without_revision_clears_it() -> None:
    assert promoted_patch(deployment(**{PROMOTED_REVISION: "v2"}), "v2") is None
    cleared = promoted_patch(deployment(**{PROMOTED_REVISION: "v2"}), None)
    assert cleared is not None
    assert cleared["metadata"]["annotations"][PROMOTED_REVISION] is None
    assert promoted_patch(deployment(), None) is None


def selection_env(base_revisions: Any) -> dict[str, str]:
    calls, jobs = Calls(), RecordingJobs()
    router = FakeRouter(calls)
    actor = Actor(
        lambda kind: router,
        RecordingEvents(calls),  # type: ignore[arg-type]
        FakeLog(calls),  # type: ignore[arg-type]
        jobs,  # type: ignore[arg-type]
        base_revisions=base_revisions,
    )
    rollout = load(rollout_body(selection=SELECTION, revision="v3"), "http://prometheus:9090")
    actor.carry_out(rollout, [CreateJob(kind=JobKind.SELECTION, key="g1-selection")])
    [job] = jobs.created
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    return {item["name"]: item["value"] for item in env}


def test_the_selection_job_gets_the_target_s_last_promoted_revision_as_its_base() -> None:
    asked: list[tuple[str, str]] = []

    def base(namespace: str, name: str) -> str:
        asked.append((namespace, name))
        return "v2"

    env = selection_env(base)
    assert (env["AIROLLOUT_REVISION"], env["AIROLLOUT_BASE_REVISION"]) == ("v3", "v2")
    assert asked == [("shop", "web")]


def test_an_unreadable_target_gives_an_empty_base_not_a_failed_job() -> None:
    def unreadable(namespace: str, name: str) -> str:
        raise RouterError("could not read Deployment default/web: 500")

    assert selection_env(unreadable)["AIROLLOUT_BASE_REVISION"] == ""
