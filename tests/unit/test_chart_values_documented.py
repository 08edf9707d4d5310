"""The chart's values: each one documented in its README and typed in its schema."""

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit

CHART = Path(__file__).parents[2] / "charts" / "airollout"


def leaf_keys(values: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of the values a user sets: a non-empty map's keys, else the key itself."""
    for key, value in values.items():
        if isinstance(value, Mapping) and value:
            yield from leaf_keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    return loaded


def test_leaf_keys_flatten_nested_maps_and_keep_empty_ones() -> None:
    nested = {"a": {"b": 1, "c": {}}, "d": []}

    assert list(leaf_keys(nested)) == ["a.b", "a.c", "d"]


def test_every_value_is_documented_in_the_chart_readme() -> None:
    readme = (CHART / "README.md").read_text()

    undocumented = [key for key in leaf_keys(values()) if f"`{key}`" not in readme]

    assert undocumented == [], f"add these values to {CHART / 'README.md'}"


def schema_node(schema: Mapping[str, Any], dotted: str) -> Mapping[str, Any] | None:
    node: Mapping[str, Any] | None = schema
    for part in dotted.split("."):
        if node is None:
            return None
        reference = node.get("$ref", "")
        if reference.startswith("#/definitions/"):
            node = schema["definitions"][reference.removeprefix("#/definitions/")]
        node = (node.get("properties") or {}).get(part)
    return node


def test_every_value_is_typed_in_the_schema_which_refuses_unknown_top_level_keys() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())

    untyped = [key for key in leaf_keys(values()) if schema_node(schema, key) is None]

    assert untyped == []
    assert schema["additionalProperties"] is False, "a typo in a value must fail the install"
