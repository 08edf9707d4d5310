"""What the apiserver makes of the CRD's descriptions and of an errorRate bound above 1."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.cluster

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "checkout-rollout.yaml"


def kubectl(
    kubeconfig: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    return subprocess.run(
        ["kubectl", *args], input=stdin, env=env, capture_output=True, text=True, timeout=60
    )


def example_with_error_rate(namespace: str, **bounds: float) -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    manifest["metadata"]["namespace"] = namespace
    metric = manifest["spec"]["analysis"]["metrics"][0]
    assert metric["kind"] == "errorRate"
    metric.pop("min", None)
    metric.update(bounds)
    return manifest


@pytest.mark.parametrize(
    ("bounds", "field"), [({"max": 1.5}, "max"), ({"min": -0.5, "max": 0.5}, "min")]
)
def test_an_error_rate_bound_outside_zero_to_one_is_rejected_naming_it(
    crd_installed: Path, namespace: str, bounds: dict[str, float], field: str
) -> None:
    manifest = example_with_error_rate(namespace, **bounds)

    rejected = kubectl(crd_installed, "apply", "-f", "-", stdin=json.dumps(manifest))

    assert rejected.returncode != 0
    assert f"spec.analysis.metrics[0].{field}:" in rejected.stderr, rejected.stderr
    assert "fraction from 0 to 1" in rejected.stderr


def test_an_error_rate_bound_of_one_is_accepted(crd_installed: Path, namespace: str) -> None:
    manifest = example_with_error_rate(namespace, max=1)

    created = kubectl(crd_installed, "apply", "-f", "-", stdin=json.dumps(manifest))

    assert created.returncode == 0, created.stderr


@pytest.mark.parametrize(
    ("field", "said"),
    [
        ("airollout.spec.analysis.metrics.max", "fraction from 0 to 1"),
        ("airollout.spec.targetRef.name", "Name of the Deployment"),
        ("airollout.spec.traffic.router", "the share of pods behind one Service"),
        ("airollout.status.conditions.lastTransitionTime", "RFC 3339"),
    ],
)
def test_kubectl_explain_describes_the_fields(crd_installed: Path, field: str, said: str) -> None:
    explained = kubectl(crd_installed, "explain", field)

    assert explained.returncode == 0, explained.stderr
    assert "<no description>" not in explained.stdout
    assert said in " ".join(explained.stdout.split())


def test_no_field_of_the_spec_lacks_a_description(crd_installed: Path) -> None:
    explained = kubectl(crd_installed, "explain", "airollout.spec", "--recursive")

    assert explained.returncode == 0, explained.stderr
    assert "targetRef" in explained.stdout
    # --recursive lists names and types only; each field's own page is checked above and
    # every property by tests/unit/resource/test_crd_descriptions.py.
    for field in ("analysis", "traffic", "judge", "onHold", "template", "promotion"):
        page = kubectl(crd_installed, "explain", f"airollout.spec.{field}")
        assert "<no description>" not in page.stdout, field


@pytest.mark.parametrize("field", ["spec.traffic.gatewayAPI"])
def test_kubectl_explain_knows_no_field_of_a_feature_not_built_yet(
    crd_installed: Path, field: str
) -> None:
    explained = kubectl(crd_installed, "explain", f"airollout.{field}")

    assert explained.returncode != 0, explained.stdout
    assert "does not exist" in explained.stderr, explained.stderr
