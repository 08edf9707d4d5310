"""The record the router keeps on the target survives a round trip through annotations."""

from __future__ import annotations

import pytest

from airollout.adapters.traffic import target_annotations
from airollout.adapters.traffic.router import RouterError
from airollout.adapters.traffic.target_annotations import StableRecord, read_record, written_on

pytestmark = pytest.mark.unit


def _on_deployment(annotations: dict[str, str]) -> dict[str, object]:
    return {"metadata": {"name": "web", "annotations": annotations}}


def test_record_reads_back_as_written() -> None:
    before = {"spec": {"containers": [{"name": "app", "image": "img:1"}]}}
    record = StableRecord("r1", 10, "abc", {"app": "img:1"}, "def", before)

    assert read_record(_on_deployment(record.annotations())) == record


def test_no_record_without_the_replica_annotation() -> None:
    assert read_record(_on_deployment({"other": "x"})) is None
    assert not written_on(_on_deployment({"other": "x"}))


def test_an_edited_record_is_an_error_that_says_how_to_recover() -> None:
    annotations = StableRecord("r1", 10, "abc", {}).annotations()
    annotations[target_annotations.STABLE_REPLICAS] = "ten"

    with pytest.raises(RouterError, match=r"remove the airollout\.dev/ annotations"):
        read_record(_on_deployment(annotations))


def test_forget_patch_removes_every_annotation_the_router_writes() -> None:
    record = StableRecord("r1", 10, "abc", {}, "def", {"spec": {}})
    removed = target_annotations.forget_patch()["metadata"]["annotations"]

    assert set(record.annotations()) <= set(removed)
    assert all(value is None for value in removed.values())
