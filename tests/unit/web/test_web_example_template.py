"""The README's AnalysisTemplate sends a body the endpoint accepts, and Argo leaves it be."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from airollout.web.request import parse_request

pytestmark = pytest.mark.unit

TEMPLATE = Path(__file__).resolve().parents[3] / "examples/argo-rollouts/analysistemplate.yaml"


def _web_metric() -> dict:  # type: ignore[type-arg]
    template = yaml.safe_load(TEMPLATE.read_text())
    (metric,) = template["spec"]["metrics"]
    return metric  # type: ignore[no-any-return]


def test_its_json_body_parses_once_argo_filled_in_the_args() -> None:
    body = dict(_web_metric()["provider"]["web"]["jsonBody"])
    body.update(namespace="shop", rollout="web", canaryHash="6f9c7d8b5", stableHash="57d4b9c8f")
    request = parse_request(body)
    assert "{{ podTemplateHash }}" in (request.analysis.metrics[0].total_query or "")
    assert request.analysis.interval == _web_metric()["interval"]


def test_every_double_brace_in_it_is_an_argo_argument() -> None:
    # Argo fails a measurement on any {{ ... }} it cannot resolve.
    text = yaml.safe_dump(yaml.safe_load(TEMPLATE.read_text()), width=10_000)
    names = re.findall(r"\{\{\s*(.*?)\s*\}\}", text)
    assert names
    assert all(name.startswith("args.") for name in names), names
