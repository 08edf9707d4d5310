"""An errorRate bound is a fraction of requests: one outside [0, 1] is refused, by name."""

from typing import Any

import pytest

from airollout.core.resource.crd import crd_manifest
from airollout.core.resource.validation import validate

pytestmark = pytest.mark.unit


def spec_with(**bounds: float) -> dict[str, Any]:
    metric = {"name": "errors", "kind": "errorRate", "errorQuery": "e", "totalQuery": "t"}
    return {
        "targetRef": {"name": "web"},
        "template": {"image": "registry.example/web:2"},
        "analysis": {"metrics": [{**metric, **bounds}]},
    }


@pytest.mark.parametrize(
    ("bounds", "field", "shown"),
    [
        ({"max": 1.5}, "max", "1.5"),
        ({"max": -0.1}, "max", "-0.1"),
        ({"min": 2.0, "max": 3.0}, "min", "2"),
    ],
)
def test_a_bound_outside_zero_to_one_is_refused_naming_the_field(
    bounds: dict[str, float], field: str, shown: str
) -> None:
    errors = validate(spec_with(**bounds))

    paths = [error.path for error in errors]
    assert f"spec.analysis.metrics[0].{field}" in paths
    message = next(e.message for e in errors if e.path.endswith(field))
    assert "fraction from 0 to 1" in message
    assert shown in message


@pytest.mark.parametrize("bound", [0.0, 0.005, 1.0])
def test_a_fraction_is_accepted(bound: float) -> None:
    assert validate(spec_with(max=bound)) == []


def test_a_gauge_may_go_above_one() -> None:
    spec = spec_with()
    spec["analysis"]["metrics"] = [{"name": "rss", "kind": "gauge", "query": "q", "max": 1.5e9}]

    assert validate(spec) == []


def test_the_crd_carries_the_same_rule_for_kubectl_apply() -> None:
    metric = crd_manifest()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"][
        "spec"
    ]["properties"]["analysis"]["properties"]["metrics"]["items"]
    rules = {
        rule["fieldPath"]: rule
        for rule in metric["x-kubernetes-validations"]
        if "fieldPath" in rule
    }

    assert "errorRate" in rules[".max"]["rule"]
    assert "fraction from 0 to 1" in rules[".max"]["message"]
