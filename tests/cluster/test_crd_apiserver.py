"""The generated CRD against a real apiserver: what `kubectl apply` accepts, rejects and shows."""

import copy
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from airollout.core.resource.spec import AIRolloutSpec
from airollout.core.resource.validation import validate

pytestmark = pytest.mark.cluster

REPO = Path(__file__).parents[2]
EXAMPLE = REPO / "examples" / "checkout-rollout.yaml"

Manifest = dict[str, Any]


def kubectl(
    kubeconfig: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    return subprocess.run(
        ["kubectl", *args], input=stdin, env=env, capture_output=True, text=True, timeout=60
    )


def example(namespace: str) -> Manifest:
    manifest: Manifest = yaml.safe_load(EXAMPLE.read_text())
    manifest["metadata"]["namespace"] = namespace
    return manifest


def apply(kubeconfig: Path, manifest: Manifest) -> subprocess.CompletedProcess[str]:
    return kubectl(kubeconfig, "apply", "-o", "json", "-f", "-", stdin=json.dumps(manifest))


def test_the_apiserver_accepts_the_crd_and_the_example(crd_installed: Path, namespace: str) -> None:
    created = apply(crd_installed, example(namespace))

    assert created.returncode == 0, created.stderr
    stored = json.loads(created.stdout)
    assert stored["spec"]["traffic"]["slices"] == [10, 25, 50, 100]
    assert validate(stored["spec"]) == []


def test_apiserver_defaults_are_the_model_defaults(crd_installed: Path, namespace: str) -> None:
    minimal = {
        "apiVersion": "airollout.dev/v1alpha1",
        "kind": "AIRollout",
        "metadata": {"name": "minimal", "namespace": namespace},
        "spec": {
            "targetRef": {"name": "checkout"},
            "template": {"image": "registry.example/checkout:2"},
            "traffic": {},
            "analysis": {"metrics": [{"name": "cpu", "query": "q", "max": 1}]},
            "judge": {},
        },
    }

    created = apply(crd_installed, minimal)

    assert created.returncode == 0, created.stderr
    stored = json.loads(created.stdout)["spec"]
    assert stored["traffic"] == {"router": "replicas", "slices": [10, 25, 50, 100]}
    assert stored["analysis"]["interval"] == "2m"
    assert stored["analysis"]["metrics"][0]["kind"] == "gauge"
    assert AIRolloutSpec.model_validate(stored) == AIRolloutSpec.model_validate(minimal["spec"])


def set_in(path: str, value: object) -> Callable[[Manifest], None]:
    """An edit of the example: set the dotted `path` under spec (list indexes as numbers)."""

    def edit(manifest: Manifest) -> None:
        *parents, last = path.split(".")
        node: Any = manifest["spec"]
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return edit


REJECTED = [
    ("slices not increasing", set_in("traffic.slices", [10, 50, 25, 100]),
     "spec.traffic.slices", "slices must be strictly increasing"),
    ("slices not ending at 100", set_in("traffic.slices", [10, 50]),
     "spec.traffic.slices", "the last slice must be 100"),
    ("slice above 100", set_in("traffic.slices", [10, 101]),
     "spec.traffic.slices[1]", "less than or equal to 100"),
    ("router not built yet", set_in("traffic.router", "gatewayAPI"),
     "spec.traffic.router", 'Unsupported value: "gatewayAPI"'),
    ("bad duration", set_in("analysis.interval", "2 minutes"),
     "spec.analysis.interval", "should match"),
    ("unknown judge mode", set_in("judge.mode", "oracle"),
     "spec.judge.mode", 'Unsupported value: "oracle"'),
    ("llm mode without llm", set_in("judge", {"mode": "llm"}),
     "spec.judge.llm", "judge modes llm and hybrid need llm"),
    ("image and patch both", set_in("template.podTemplatePatch", {"spec": {}}),
     "spec.template", "set exactly one of image or podTemplatePatch"),
    ("errorRate without totalQuery", set_in("analysis.metrics.0.totalQuery", None),
     "spec.analysis.metrics[0]", "kind errorRate needs errorQuery and totalQuery"),
    ("hold expiring into proceed", set_in("onHold.then", "proceed"),
     "spec.onHold.then", 'Unsupported value: "proceed"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [pytest.param(edit, field, message, id=name) for name, edit, field, message in REJECTED],
)
def test_invalid_rollouts_are_rejected_naming_the_field(
    crd_installed: Path,
    namespace: str,
    edit: Callable[[Manifest], None],
    field: str,
    message: str,
) -> None:
    manifest = copy.deepcopy(example(namespace))
    edit(manifest)
    spec = {k: v for k, v in manifest["spec"].items() if v is not None}

    rejected = apply(crd_installed, manifest)

    assert rejected.returncode != 0
    assert f"{field}:" in rejected.stderr, rejected.stderr
    assert message in rejected.stderr, rejected.stderr
    # the operator's own check agrees with the apiserver, so neither line of defence is slack
    assert validate(spec) != []


@pytest.mark.parametrize("field", ["feedback"])
def test_a_field_of_a_feature_not_built_yet_is_refused_or_pruned_never_stored(
    crd_installed: Path, namespace: str, field: str
) -> None:
    manifest = example(namespace)
    manifest["spec"][field] = {"jobTemplate": {"spec": {}}}

    refused = apply(crd_installed, manifest)  # kubectl's default: strict field validation
    warned = kubectl(
        crd_installed, "apply", "--validate=warn", "-o", "json", "-f", "-",
        stdin=json.dumps(manifest),
    )  # fmt: skip

    assert refused.returncode != 0
    assert f'unknown field "spec.{field}"' in refused.stderr, refused.stderr
    # Any client that does not ask for strict validation gets the object without the field.
    assert warned.returncode == 0, warned.stderr
    assert f'unknown field "spec.{field}"' in warned.stderr, warned.stderr
    assert field not in json.loads(warned.stdout)["spec"]


def test_kubectl_get_air_shows_phase_weight_last_decision_and_age(
    crd_installed: Path, namespace: str
) -> None:
    assert apply(crd_installed, example(namespace)).returncode == 0
    status = {"status": {"phase": "Progressing", "weight": 25, "lastDecision": "proceed: ok"}}
    patched = kubectl(
        crd_installed, "patch", "air", "checkout-4f2a1c", "-n", namespace,
        "--subresource=status", "--type=merge", "-p", json.dumps(status),
    )  # fmt: skip
    assert patched.returncode == 0, patched.stderr

    listed = kubectl(crd_installed, "get", "air", "-n", namespace)

    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()[:2]
    assert header.split() == ["NAME", "PHASE", "WEIGHT", "SCORE", "LAST", "DECISION", "AGE"]
    # No promotion score: its column stays blank.
    assert row.split()[:5] == ["checkout-4f2a1c", "Progressing", "25", "proceed:", "ok"]
