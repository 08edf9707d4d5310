"""The controller's side of the lifecycle: deletion that always completes, rollouts at rest
that no timer looks at, requests never wiped, and no memory kept for rollouts gone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from kubernetes.client import ApiException

from airollout.adapters.traffic.router import RolloutTarget, TargetMissingError
from airollout.controller.handlers import wants_ticks
from airollout.controller.reconcile import RELEASE_DEADLINE_S
from airollout.core.rollout.timeline import to_rfc3339
from tests.support.controller_fakes import Harness, rollout_body

pytestmark = pytest.mark.unit


def mid_rollout() -> Harness:
    harness = Harness()
    harness.reconcile()  # 10 % asked for
    harness.reconcile()  # in effect, a window opens
    assert harness.body["status"]["weight"] == 10
    return harness


def deleting(harness: Harness, seconds_ago: float) -> dict[str, Any]:
    body = dict(harness.body)
    stamp = to_rfc3339(harness.now - timedelta(seconds=seconds_ago))
    body["metadata"] = {**body["metadata"], "deletionTimestamp": stamp}
    return body


def test_deleting_a_rollout_whose_target_is_gone_releases_it_at_once() -> None:
    harness = mid_rollout()

    def target_gone(target: RolloutTarget) -> bool:
        harness.calls.append(("rollback", None))  # the canary is deleted, then it raises
        raise TargetMissingError(target.namespace, target.target)

    harness.router.rollback = target_gone  # type: ignore[method-assign]
    harness.calls.clear()
    assert harness.reconciler.release(deleting(harness, 0)) is True
    assert harness.calls.names() == ["rollback"]


def test_a_rollback_that_cannot_finish_holds_the_deletion_only_until_the_deadline() -> None:
    harness = mid_rollout()
    harness.router.rollback = lambda target: False  # type: ignore[method-assign]

    harness.calls.clear()
    assert harness.reconciler.release(deleting(harness, RELEASE_DEADLINE_S - 1)) is False
    assert "event" not in harness.calls.names()

    assert harness.reconciler.release(deleting(harness, RELEASE_DEADLINE_S)) is True
    assert ("event", "ReleaseTimedOut") in harness.calls


def test_the_request_is_cleared_on_the_version_the_status_write_returned() -> None:
    harness = Harness()
    harness.reconcile()
    harness.body["metadata"]["annotations"] = {"airollout.dev/action": "abort"}
    read_at = harness.body["metadata"]["resourceVersion"]
    harness.reconcile()

    [(_, patch)] = [call for call in harness.calls if call[0] == "patch-object"]
    assert patch["metadata"]["resourceVersion"] == str(int(read_at) + 1)
    assert patch["metadata"]["annotations"]["airollout.dev/action"] is None


def test_a_clear_that_loses_to_a_newer_write_leaves_the_request_for_the_next_tick() -> None:
    harness = Harness()
    harness.reconcile()
    harness.body["metadata"]["annotations"] = {"airollout.dev/action": "abort"}

    def newer_request_arrived(*args: Any) -> None:
        harness.calls.append(("patch-object", args[-1]))
        raise ApiException(status=409, reason="Conflict")

    harness.custom.patch_namespaced_custom_object = newer_request_arrived  # type: ignore[method-assign]
    harness.reconcile()  # no exception: the 409 is expected, not an error
    assert harness.body["status"]["phase"] == "RolledBack"
    assert "patch-object" in harness.calls.names()


def ticks_wanted(harness: Harness) -> bool:
    return wants_ticks(harness.reconciler.default_prometheus)(body=harness.body)


def test_a_failed_invalid_spec_is_at_rest_until_its_spec_or_annotations_change() -> None:
    harness = Harness()
    harness.body = rollout_body(traffic={"slices": [50, 25, 100]})
    assert ticks_wanted(harness)
    harness.reconcile()
    assert harness.body["status"]["phase"] == "Failed"

    ticks = 0
    for _ in range(5):  # what a timer would do, if the filter let it run
        if ticks_wanted(harness):
            ticks += 1
            harness.reconcile()
    assert ticks == 0

    harness.body["metadata"]["annotations"] = {"airollout.dev/action": "resume"}
    assert ticks_wanted(harness), "a request is answered"
    harness.reconcile()
    assert ("event", "RequestRefused") in harness.calls
    assert "patch-object" in harness.calls.names()
    del harness.body["metadata"]["annotations"]

    harness.body["metadata"]["generation"] = 2
    assert ticks_wanted(harness), "a new spec is observed once"
    harness.reconcile()
    assert harness.body["status"]["observedGeneration"] == 2
    assert not ticks_wanted(harness)


def test_a_succeeded_rollout_is_at_rest_and_reconciling_it_calls_no_api() -> None:
    harness = Harness()
    harness.body["status"] = {"phase": "Succeeded", "observedGeneration": 1}
    assert not ticks_wanted(harness)
    harness.body["status"]["awaiting"] = "g1-rollback"
    assert ticks_wanted(harness), "the closing rollback is still carried out"


def test_what_is_remembered_for_a_rollout_goes_when_it_finishes_or_is_deleted() -> None:
    harness = mid_rollout()
    harness.advance(1)
    harness.reconcile()  # the weight is re-asserted: its check time is remembered
    checked = harness.reconciler.actor._checked_at
    assert "uid-1" in checked

    harness.body["metadata"]["annotations"] = {"airollout.dev/action": "abort"}
    harness.reconcile()
    assert harness.body["status"]["phase"] == "RolledBack"
    harness.reconcile()  # the rollback is done: nothing is awaited any more
    assert harness.body["status"]["awaiting"] is None
    assert "uid-1" not in checked

    other = mid_rollout()
    other.advance(1)
    other.reconcile()
    assert "uid-1" in other.reconciler.actor._checked_at
    assert other.reconciler.release(deleting(other, 0)) is True
    assert "uid-1" not in other.reconciler.actor._checked_at
