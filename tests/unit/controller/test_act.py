"""Acting: every action is carried out or refused out loud, never dropped."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from airollout.controller.act import Actor
from airollout.controller.snapshot import load
from airollout.core.rollout.actions import CreateJob, EmitEvent, JobKind, SetWeight, StartWindow
from tests.support.controller_fakes import Calls, FakeLog, FakeRouter, rollout_body

pytestmark = pytest.mark.unit


class RecordingEvents:
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def emit(
        self,
        ref: object,
        key: str,
        reason: str,
        message: str,
        warning: bool,
        repeated: bool = False,
    ) -> None:
        self.calls.append(("event", (key, reason, message, warning, repeated)))


def actor_and_calls() -> tuple[Actor, Calls]:
    calls = Calls()
    router = FakeRouter(calls)
    return Actor(lambda kind: router, RecordingEvents(calls), FakeLog(calls)), calls  # type: ignore[arg-type]


ROLLOUT = load(rollout_body(), "http://prometheus:9090")


def test_a_create_job_without_its_spec_section_is_refused_with_an_error_and_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    actor, calls = actor_and_calls()

    with caplog.at_level(logging.ERROR, logger="airollout.controller"):
        actor.carry_out(ROLLOUT, [CreateJob(kind=JobKind.SELECTION, key="g1-selection")])

    assert calls.names() == ["event"], "refused: no router call, one Event"
    key, reason, message, warning, _ = calls[0][1]
    assert (key, reason, warning) == ("g1-selection-refused", "ActionRefused", True)
    assert "CreateJob (selection Job, key g1-selection) refused" in message
    assert "no spec.selection" in message
    assert [record.levelno for record in caplog.records] == [logging.ERROR]
    assert "CreateJob" in caplog.records[0].getMessage()


class RecordingJobs:
    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []

    def ensure(self, manifest: dict[str, Any]) -> None:
        self.created.append(manifest)


SELECTION = {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "s"}]}}}}}


def test_a_create_job_makes_the_job_its_key_names_from_the_spec_template() -> None:
    calls, jobs = Calls(), RecordingJobs()
    router = FakeRouter(calls)
    actor = Actor(lambda kind: router, RecordingEvents(calls), FakeLog(calls), jobs)  # type: ignore[arg-type]
    rollout = load(rollout_body(selection=SELECTION, revision="abc"), "http://prometheus:9090")

    actor.carry_out(rollout, [CreateJob(kind=JobKind.SELECTION, key="g1-selection")])

    assert calls == [], "no router call, no Event"
    [job] = jobs.created
    assert job["metadata"]["name"] == "web-v2-g1-selection"
    assert job["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert job["spec"]["activeDeadlineSeconds"] == 1800, "spec.selection.activeDeadline's default"
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "AIROLLOUT_REVISION", "value": "abc"} in env


def test_a_started_window_needs_nothing_done_and_the_actions_around_it_still_run() -> None:
    actor, calls = actor_and_calls()
    window = StartWindow(key="g1-s0-w1", start="2026-11-25T12:00:00Z", end="2026-11-25T12:00:10Z")
    event = EmitEvent(reason="Started", message="m", key="g1-s0-weight-event", repeated=True)

    actor.carry_out(ROLLOUT, [SetWeight(weight=10, key="g1-s0-weight"), window, event])

    assert calls == [
        ("set-weight", 10),
        ("event", ("g1-s0-weight-event", "Started", "m", False, True)),
    ]
