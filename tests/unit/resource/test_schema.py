from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from airollout.core.resource.schema import UnsupportedSchemaError, structural_schema

pytestmark = pytest.mark.unit


class Inner(BaseModel):
    """An inner part.

    Its second paragraph.
    """

    count: int = Field(default=1, gt=0, le=10)


class Outer(BaseModel):
    inner: Inner | None = None
    required_inner: Inner
    free: dict[str, Any]
    labels: dict[str, str] = Field(default_factory=dict)
    fixed: Literal["only"] = "only"
    names: list[str] = Field(default_factory=list, max_length=3)


class Ambiguous(BaseModel):
    either: int | str


def test_optional_and_referenced_models_are_inlined() -> None:
    schema = structural_schema(Outer)
    inner = schema["properties"]["inner"]

    assert inner["type"] == "object"
    assert inner["properties"]["count"]["type"] == "integer"
    assert schema["properties"]["required_inner"] == inner
    assert schema["required"] == ["required_inner", "free"]


def test_exclusive_bounds_become_openapi_v3_booleans() -> None:
    count = structural_schema(Outer)["properties"]["inner"]["properties"]["count"]

    assert count == {
        "type": "integer",
        "default": 1,
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 10,
    }


def test_free_form_objects_preserve_unknown_fields_and_maps_keep_value_types() -> None:
    properties = structural_schema(Outer)["properties"]

    assert properties["free"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert properties["labels"] == {"type": "object", "additionalProperties": {"type": "string"}}


def test_literal_becomes_a_one_value_enum_and_list_bounds_stay() -> None:
    properties = structural_schema(Outer)["properties"]

    assert properties["fixed"]["enum"] == ["only"]
    assert properties["names"] == {"type": "array", "items": {"type": "string"}, "maxItems": 3}


def test_docstring_paragraphs_become_one_line_each() -> None:
    description = structural_schema(Outer)["properties"]["inner"]["description"]

    assert description == "An inner part.\nIts second paragraph."


def test_unions_have_no_structural_form_and_are_refused() -> None:
    with pytest.raises(UnsupportedSchemaError, match="union"):
        structural_schema(Ambiguous)
