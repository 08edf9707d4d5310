"""spec.promotion against a real apiserver: bad thresholds and review settings are refused
naming the field, defaults are stored, and `kubectl get` shows the score."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from airollout.core.resource.validation import validate
from tests.cluster.test_crd_apiserver import REPO, apply, example, kubectl

pytestmark = pytest.mark.cluster

PROMOTION_EXAMPLE = REPO / "examples" / "checkout-promotion-rollout.yaml"
JOB = {"spec": {"template": {"spec": {"containers": [{"name": "score", "image": "score:1"}]}}}}


def with_promotion(namespace: str, **promotion: Any) -> dict[str, Any]:
    manifest = example(namespace)
    manifest["spec"]["promotion"] = {"jobTemplate": JOB, **promotion}
    return manifest


def test_the_promotion_defaults_are_stored(crd_installed: Path, namespace: str) -> None:
    created = apply(crd_installed, with_promotion(namespace, thresholds={}))

    assert created.returncode == 0, created.stderr
    stored = json.loads(created.stdout)["spec"]["promotion"]
    assert stored["thresholds"] == {"autoPromote": 0.92, "manualReview": 0.75}
    assert stored["onReviewTimeout"] == "reject"
    assert validate(json.loads(created.stdout)["spec"]) == []


@pytest.mark.parametrize(
    ("promotion", "field", "message"),
    [
        pytest.param(
            {"thresholds": {"autoPromote": 0.8, "manualReview": 0.9}},
            "spec.promotion.thresholds.manualReview",
            "manualReview must not be above autoPromote",
            id="review above auto",
        ),
        pytest.param(
            {"thresholds": {"autoPromote": 1.2}},
            "spec.promotion.thresholds.autoPromote",
            "less than or equal to 1",
            id="auto above 1",
        ),
        pytest.param(
            {"thresholds": {"manualReview": -0.5}},
            "spec.promotion.thresholds.manualReview",
            "greater than or equal to 0",
            id="review below 0",
        ),
        pytest.param(
            {"onReviewTimeout": "wait"},
            "spec.promotion.onReviewTimeout",
            'Unsupported value: "wait"',
            id="unknown timeout action",
        ),
        pytest.param(
            {"reviewTimeout": "one hour"},
            "spec.promotion.reviewTimeout",
            "should match",
            id="bad duration",
        ),
    ],
)
def test_bad_promotion_settings_are_rejected_naming_the_field(
    crd_installed: Path, namespace: str, promotion: dict[str, Any], field: str, message: str
) -> None:
    manifest = with_promotion(namespace, **promotion)

    rejected = apply(crd_installed, manifest)

    assert rejected.returncode != 0
    assert f"{field}:" in rejected.stderr, rejected.stderr
    assert message in rejected.stderr, rejected.stderr
    assert validate(manifest["spec"]) != [], "the operator's own check agrees"


def test_kubectl_get_air_shows_the_promotion_score(crd_installed: Path, namespace: str) -> None:
    assert apply(crd_installed, with_promotion(namespace)).returncode == 0
    status = {"status": {"phase": "AwaitingApproval", "promotion": {"score": 0.81}}}
    patched = kubectl(
        crd_installed, "patch", "air", "checkout-4f2a1c", "-n", namespace,
        "--subresource=status", "--type=merge", "-p", json.dumps(status),
    )  # fmt: skip
    assert patched.returncode == 0, patched.stderr

    listed = kubectl(crd_installed, "get", "air", "-n", namespace)

    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()[:2]
    assert header.split()[:4] == ["NAME", "PHASE", "WEIGHT", "SCORE"]
    assert row.split()[:4] == ["checkout-4f2a1c", "AwaitingApproval", "0", "0.81"]


def test_the_apiserver_accepts_the_promotion_example(crd_installed: Path, namespace: str) -> None:
    manifest = yaml.safe_load(PROMOTION_EXAMPLE.read_text())
    manifest["metadata"]["namespace"] = namespace

    created = apply(crd_installed, manifest)

    assert created.returncode == 0, created.stderr
    stored = json.loads(created.stdout)["spec"]
    assert stored["promotion"]["reviewTimeout"] == "4h"
    assert validate(stored) == []
