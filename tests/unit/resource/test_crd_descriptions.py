"""`kubectl explain airollout.spec...` has something to say about every field."""

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from airollout.core.resource.crd import crd_manifest

pytestmark = pytest.mark.unit


def schema() -> Mapping[str, Any]:
    found: Mapping[str, Any] = crd_manifest()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return found


def properties(node: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every named property under `node`, through arrays of objects, with its dotted path."""
    for name, sub in (node.get("properties") or {}).items():
        where = f"{path}.{name}" if path else name
        yield where, sub
        yield from properties(sub, where)
    if "items" in node:
        yield from properties(node["items"], path)


def at(path: str) -> Mapping[str, Any]:
    return dict(properties(schema()))[path]


def test_the_walk_reaches_fields_inside_arrays_of_objects() -> None:
    paths = dict(properties(schema()))

    assert "spec.analysis.metrics.errorQuery" in paths
    assert "status.conditions.lastTransitionTime" in paths
    assert len(paths) > 100


# The apiserver refuses a description of metadata: kubectl explain shows ObjectMeta's own.
STANDARD = {"metadata"}


def test_every_property_of_the_crd_has_a_description() -> None:
    missing = [
        path
        for path, node in properties(schema())
        if not node.get("description") and path not in STANDARD
    ]

    assert missing == [], "add Field(description=...) in core/resource/spec.py or status.py"


@pytest.mark.parametrize(
    "path",
    [
        "spec.traffic.gatewayAPI",
        "status.appliedStep",
    ],
)
def test_fields_of_features_not_built_yet_are_not_in_the_crd(path: str) -> None:
    assert path not in dict(properties(schema()))


@pytest.mark.parametrize(
    "path",
    [
        "spec.promotion.jobTemplate",
        "spec.promotion.thresholds.autoPromote",
        "spec.promotion.thresholds.manualReview",
        "spec.promotion.reviewTimeout",
        "spec.promotion.onReviewTimeout",
        "status.promotion",
        "status.reviewSince",
    ],
)
def test_the_promotion_fields_are_in_the_crd(path: str) -> None:
    assert path in dict(properties(schema()))


def test_the_overridden_status_fields_keep_their_own_descriptions() -> None:
    assert "decision log" in at("status.decisions")["description"]
    assert at("status.decisions")["maxItems"] > 0
