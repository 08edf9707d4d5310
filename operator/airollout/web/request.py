"""A `POST /v1/analysis` body read into the spec models, checked as an AIRollout spec is.

The body's `analysis` and `judge` have the schema of `spec.analysis` and `spec.judge`, and
go through the same pydantic models and the same cross-field rules (`validate()`), so a
rule added for the CRD holds here too. Messages name the field from the body's root
(`analysis.metrics[0].max: ...`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from airollout.adapters.metrics.queries import query_errors
from airollout.core.resource.spec import NAME_PATTERN, AIRolloutSpec, AnalysisSpec, JudgeSpec
from airollout.core.resource.validation import FieldError, validate

# Argo Rollouts resolves every `{{ ... }}` of an AnalysisTemplate itself and fails on one it
# does not know, so a query sent through it writes the endpoint's variables as `${name}`
# (Grafana's spelling; PromQL never uses `$`). They become `{{ name }}` before validation.
_DOLLAR_VARIABLE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
_QUERY_FIELDS = ("query", "errorQuery", "totalQuery", "bucketsQuery")
# Argo's rollouts-pod-template-hash: a short run of lowercase letters and digits.
HASH_PATTERN = r"^[a-z0-9]{1,63}$"
MAX_NAME_LENGTH = 253
# The spec's validation needs a whole AIRollout spec; these stand in for the parts an Argo
# Rollout does itself, and are never shown or used.
_STAND_INS = {"targetRef": {"name": "argo-rollout"}, "template": {"image": "argo-rollout"}}


class RequestError(ValueError):
    """A body the endpoint cannot use; one line per problem, each naming its field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


# The body's own fields: (name, pattern, what the pattern means).
_NAMES = (
    ("namespace", NAME_PATTERN, "must be a Kubernetes name"),
    ("rollout", NAME_PATTERN, "must be a Kubernetes name"),
    ("canaryHash", HASH_PATTERN, "must be a rollouts-pod-template-hash value"),
    ("stableHash", HASH_PATTERN, "must be a rollouts-pod-template-hash value"),
)
_SECTIONS = ("analysis", "judge")


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    """One measurement Argo asks for: which Rollout and versions, and how to judge them."""

    namespace: str
    rollout: str
    canary_hash: str
    stable_hash: str
    analysis: AnalysisSpec
    judge: JudgeSpec


def parse_request(body: Any) -> AnalysisRequest:
    """The request in `body` (decoded JSON), or RequestError naming every bad field."""
    if not isinstance(body, Mapping):
        raise RequestError([FieldError("body", "must be a JSON object")])
    errors = list(_envelope_errors(body))
    if errors:
        raise RequestError(errors)
    analysis = _with_template_variables(body["analysis"])
    spec = {**_STAND_INS, "analysis": analysis, "judge": body.get("judge") or {}}
    errors = [_from_body_root(error) for error in validate(spec)]
    if errors:
        raise RequestError(errors)
    parsed = AIRolloutSpec.model_validate(spec)
    errors = list(query_errors(parsed.analysis.metrics, path="analysis.metrics"))
    if not parsed.analysis.metrics:
        errors.append(FieldError("analysis.metrics", "must list at least one metric"))
    if errors:
        raise RequestError(errors)
    return AnalysisRequest(
        namespace=body["namespace"],
        rollout=body["rollout"],
        canary_hash=body["canaryHash"],
        stable_hash=body["stableHash"],
        analysis=parsed.analysis,
        judge=parsed.judge,
    )


def _envelope_errors(body: Mapping[str, Any]) -> Iterator[FieldError]:
    for name, pattern, meaning in _NAMES:
        value = body.get(name)
        if value is None:
            yield FieldError(name, "required")
        elif not isinstance(value, str) or re.fullmatch(pattern, value) is None:
            yield FieldError(name, meaning)
        elif len(value) > MAX_NAME_LENGTH:
            yield FieldError(name, f"must be at most {MAX_NAME_LENGTH} characters")
    if "analysis" not in body:
        yield FieldError("analysis", "required")
    for name in _SECTIONS:
        if body.get(name) is not None and not isinstance(body[name], Mapping):
            yield FieldError(name, "must be an object")
    known = {name for name, _, _ in _NAMES} | set(_SECTIONS)
    for name in body:
        if name not in known:
            yield FieldError(str(name), "unknown field")


def _with_template_variables(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """`analysis` with each query's `${name}` written as `{{ name }}`."""
    metrics = analysis.get("metrics")
    if not isinstance(metrics, list):
        return dict(analysis)
    rewritten = [
        {
            field: _DOLLAR_VARIABLE.sub(r"{{ \1 }}", value)
            if field in _QUERY_FIELDS and isinstance(value, str)
            else value
            for field, value in metric.items()
        }
        if isinstance(metric, Mapping)
        else metric
        for metric in metrics
    ]
    return {**analysis, "metrics": rewritten}


def _from_body_root(error: FieldError) -> FieldError:
    """`spec.analysis.metrics[0].max` as the body names it: `analysis.metrics[0].max`."""
    path = error.path.removeprefix("spec").removeprefix(".")
    return FieldError(path or "body", error.message)
