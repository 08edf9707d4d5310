"""A tick whose object kopf shows at a version our own write replaced reconciles what we
wrote instead; any version that is not one of ours is used as kopf shows it."""

from __future__ import annotations

from typing import Any

import pytest

from airollout.controller.own_writes import OwnWrites

pytestmark = pytest.mark.unit


def rollout(version: str, uid: str = "uid-1", weight: int = 0) -> dict[str, Any]:
    return {
        "metadata": {"uid": uid, "resourceVersion": version, "name": "web"},
        "spec": {"targetRef": {"name": "web"}},
        "status": {"weight": weight},
    }


def test_kopfs_view_of_the_version_we_wrote_over_gives_way_to_what_we_wrote() -> None:
    writes = OwnWrites()
    written = rollout("11", weight=50)
    writes.wrote("10", written)
    assert writes.freshest(rollout("10")) is written, "the watch has not shown our write yet"
    assert writes.freshest(rollout("10", uid="uid-2"))["metadata"]["uid"] == "uid-2"
    caught_up = rollout("11", weight=50)
    assert writes.freshest(caught_up) is caught_up, "the watch shows it: kopf's view serves"
    assert writes.freshest(rollout("10"))["status"]["weight"] == 0, "forgotten once caught up"


def test_writes_on_our_own_written_object_chain_so_every_older_view_is_replaced() -> None:
    writes = OwnWrites()
    first = rollout("11", weight=10)
    writes.wrote("10", first)
    second = rollout("12", weight=50)
    read = writes.freshest(rollout("10"))
    writes.wrote(read["metadata"]["resourceVersion"], second)
    assert writes.freshest(rollout("10")) is second
    assert writes.freshest(rollout("11")) is second, "the first write is older than the second"


def test_a_version_someone_else_wrote_is_used_as_kopf_shows_it() -> None:
    writes = OwnWrites()
    writes.wrote("10", rollout("11", weight=50))
    theirs = rollout("12")  # e.g. a person's annotation after our write
    assert writes.freshest(theirs) is theirs
    # and a reconcile of kopf's own view starts a new chain: 11 is no longer ours to replace
    writes.wrote("12", rollout("13"))
    assert writes.freshest(rollout("11"))["metadata"]["resourceVersion"] == "11"


def test_no_write_an_unchanged_version_or_a_partial_answer_holds_nothing() -> None:
    writes = OwnWrites()
    writes.wrote("10", None)
    writes.wrote("10", rollout("10"))
    writes.wrote("10", {"metadata": {"uid": "uid-1", "resourceVersion": "11"}})
    assert len(writes) == 0
    assert writes.freshest(rollout("10"))["metadata"]["resourceVersion"] == "10"


def test_a_rollout_forgotten_or_a_long_chain_keeps_only_what_is_bounded() -> None:
    writes = OwnWrites(versions_kept=3)
    for version in range(2, 10):
        read = writes.freshest(rollout("1"))  # kopf's watch never catches up here
        writes.wrote(read["metadata"]["resourceVersion"], rollout(str(version)))
    newest = writes.freshest(rollout("8"))
    assert newest["metadata"]["resourceVersion"] == "9"
    assert writes.freshest(rollout("5"))["metadata"]["resourceVersion"] == "5", "past the bound"
    writes.wrote("20", rollout("21"))
    writes.forget("uid-1")
    assert writes.freshest(rollout("20"))["metadata"]["resourceVersion"] == "20"


def test_kopfs_view_moving_on_during_a_reconcile_never_hides_a_version_newer_than_ours() -> None:
    """The reconcile read 10 and wrote 11; kopf then patched its finalizer (12). Only 10 is
    older than our write: kopf's 12 must be used, or every later write would lose (409)."""
    writes = OwnWrites()
    writes.wrote("10", rollout("11"))
    kopfs = rollout("12")
    assert writes.freshest(kopfs) is kopfs
