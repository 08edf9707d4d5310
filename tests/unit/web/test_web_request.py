"""A request body is validated as an AIRollout spec is, and errors name the body's field."""

from __future__ import annotations

from typing import Any

import pytest

from airollout.core.resource.kinds import MetricKind
from airollout.core.resource.spec import JudgeMode
from airollout.web.request import RequestError, parse_request
from tests.unit.web.web_fakes import body

pytestmark = pytest.mark.unit


def _errors(raw: Any) -> list[str]:
    with pytest.raises(RequestError) as raised:
        parse_request(raw)
    return [str(error) for error in raised.value.errors]


def test_a_valid_body_becomes_the_spec_models() -> None:
    request = parse_request(body())
    assert (request.namespace, request.rollout) == ("shop", "web")
    assert (request.canary_hash, request.stable_hash) == ("6f9c7d8b5", "57d4b9c8f")
    assert request.analysis.metrics[0].kind is MetricKind.ERROR_RATE
    assert request.analysis.interval_seconds == 30.0
    assert request.judge.mode is JudgeMode.RULES


def test_an_error_rate_bound_above_one_names_the_field() -> None:
    raw = body()
    raw["analysis"]["metrics"][0]["max"] = 1.5
    assert _errors(raw) == [
        "analysis.metrics[0].max: an errorRate bound is a fraction from 0 to 1, got 1.5"
    ]


def test_shape_errors_of_the_analysis_use_the_spec_wording() -> None:
    raw = body()
    raw["analysis"]["alpha"] = 0.9
    raw["analysis"]["metrics"][0]["typo"] = 1
    assert set(_errors(raw)) == {
        "analysis.alpha: must be less than 0.5",
        "analysis.metrics[0].typo: unknown field",
    }


def test_the_judge_section_is_checked_like_spec_judge() -> None:
    assert _errors(body(judge={"mode": "llm"})) == ["judge.llm: required when mode is llm"]


def test_the_envelope_names_missing_and_malformed_fields() -> None:
    raw = body(canaryHash="Not A Hash", extra=True)
    del raw["stableHash"]
    assert set(_errors(raw)) == {
        "canaryHash: must be a rollouts-pod-template-hash value",
        "stableHash: required",
        "extra: unknown field",
    }
    assert _errors([1]) == ["body: must be a JSON object"]


def test_an_unknown_template_variable_names_the_query() -> None:
    raw = body()
    raw["analysis"]["metrics"][0]["totalQuery"] = "sum(t{h='{{ hash }}'})"
    (error,) = _errors(raw)
    assert error.startswith("analysis.metrics[0].totalQuery: unknown template variable 'hash'")


def test_an_analysis_without_metrics_is_refused() -> None:
    raw = body()
    raw["analysis"]["metrics"] = []
    assert _errors(raw) == ["analysis.metrics: must list at least one metric"]


def test_dollar_variables_pass_through_argo_and_become_template_variables() -> None:
    raw = body()
    raw["analysis"]["metrics"][0]["errorQuery"] = 'sum(e{h="${podTemplateHash}"}[${ window }])'
    request = parse_request(raw)
    assert (
        request.analysis.metrics[0].error_query == 'sum(e{h="{{ podTemplateHash }}"}[{{ window }}])'
    )


def test_an_unknown_dollar_variable_names_the_query() -> None:
    raw = body()
    raw["analysis"]["metrics"][0]["errorQuery"] = 'sum(e{h="${hash}"})'
    (error,) = _errors(raw)
    assert error.startswith("analysis.metrics[0].errorQuery: unknown template variable 'hash'")
