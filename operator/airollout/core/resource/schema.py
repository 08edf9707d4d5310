"""Pydantic's JSON Schema turned into a Kubernetes structural schema (OpenAPI v3 subset).

The apiserver wants every node typed and self-contained: no `$ref`, no `anyOf` for optional
fields, boolean `exclusiveMinimum`, and `x-kubernetes-preserve-unknown-fields` where a field
holds free-form objects. Anything this converter does not understand is an error, so a new
model field can never slip into the CRD half-translated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

JsonSchema = dict[str, Any]

_PASSED_THROUGH = frozenset(
    {
        "type",
        "description",
        "default",
        "enum",
        "format",
        "pattern",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "required",
        "x-kubernetes-validations",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-list-type",
    }
)
_DROPPED = frozenset({"title", "$defs"})


class UnsupportedSchemaError(ValueError):
    """A model uses a JSON Schema construct that has no structural equivalent."""


def structural_schema(model: type[BaseModel]) -> JsonSchema:
    """The openAPIV3Schema of `model` as the apiserver accepts it."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return _convert(schema, schema.get("$defs", {}))


def _convert(node: Mapping[str, Any], defs: Mapping[str, Any]) -> JsonSchema:
    node = _inline(node, defs)
    out: JsonSchema = {}
    for key, value in node.items():
        if key in _DROPPED or (key == "default" and value is None):
            continue
        if key == "properties":
            out[key] = {name: _convert(sub, defs) for name, sub in value.items()}
        elif key == "items":
            out[key] = _convert(value, defs)
        elif key == "additionalProperties":
            out.update(_additional_properties(value, defs))
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            out[bound] = value
            out[key] = True
        elif key == "const":
            out["enum"] = [value]
        elif key == "description":
            out[key] = _one_paragraph_per_line(value)
        elif key in _PASSED_THROUGH:
            out[key] = value
        else:
            raise UnsupportedSchemaError(f"no structural form for {key!r} in {dict(node)}")
    if "type" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        raise UnsupportedSchemaError(f"untyped schema node {dict(node)}")
    return out


def _inline(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    """Replace `$ref` and the `anyOf: [X, null]` of optional fields by X, keeping siblings."""
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return _inline({**target, **siblings}, defs)
    if "anyOf" in node:
        choices = [choice for choice in node["anyOf"] if choice.get("type") != "null"]
        if len(choices) != 1:
            raise UnsupportedSchemaError(f"a union is not structural: {dict(node)}")
        siblings = {k: v for k, v in node.items() if k != "anyOf"}
        return _inline({**choices[0], **siblings}, defs)
    return node


def _additional_properties(value: Any, defs: Mapping[str, Any]) -> JsonSchema:
    if value is True:
        return {"x-kubernetes-preserve-unknown-fields": True}
    if value is False:  # extra="forbid": the apiserver prunes unknown fields instead
        return {}
    return {"additionalProperties": _convert(value, defs)}


def _one_paragraph_per_line(text: str) -> str:
    """Docstring line breaks are layout, not meaning; `kubectl explain` wraps by itself."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)
