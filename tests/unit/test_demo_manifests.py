"""The AIRollouts that `make demo` applies: valid, with known query variables, and shaped so
the demo shows one thing (a healthy canary promoted, a failing one rolled back) in time."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from airollout.adapters.metrics.queries import query_errors
from airollout.core.resource.spec import AIRolloutSpec
from airollout.core.resource.validation import validate

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO_ROOT / "examples" / "demo"
DEMO_SCRIPT = REPO_ROOT / "hack" / "demo.sh"
MANIFEST_NAMES = ("healthy-rollout.yaml", "failing-rollout.yaml")
# The script has five minutes in all; cluster start, promotion and two rollouts share it.
MAX_ANALYSIS_SECONDS_PER_ROLLOUT = 60.0


def manifest(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEMO_DIR / name).read_text())
    return loaded


@pytest.mark.parametrize("name", MANIFEST_NAMES)
def test_the_demo_manifest_is_a_valid_airollout(name: str) -> None:
    document = manifest(name)

    assert (document["apiVersion"], document["kind"]) == ("airollout.dev/v1alpha1", "AIRollout")
    assert validate(document["spec"]) == []


@pytest.mark.parametrize("name", MANIFEST_NAMES)
def test_the_demo_queries_use_only_known_template_variables(name: str) -> None:
    spec = AIRolloutSpec.model_validate(manifest(name)["spec"])

    assert spec.analysis.metrics, "the demo judges real Prometheus signals"
    assert list(query_errors(spec.analysis.metrics)) == []


@pytest.mark.parametrize("name", MANIFEST_NAMES)
def test_the_demo_rollout_is_judged_fast_enough_for_a_five_minute_demo(name: str) -> None:
    spec = AIRolloutSpec.model_validate(manifest(name)["spec"])
    analysed_slices = len(spec.traffic.slices) - 1  # the last slice is promotion, not judged
    window = spec.analysis.warmup_seconds + spec.analysis.interval_seconds

    assert analysed_slices * window <= MAX_ANALYSIS_SECONDS_PER_ROLLOUT


def test_the_two_rollouts_make_the_same_change_so_only_the_canary_behaviour_differs() -> None:
    healthy, failing = (manifest(name) for name in MANIFEST_NAMES)

    assert healthy["spec"] == failing["spec"]
    assert healthy["metadata"]["namespace"] != failing["metadata"]["namespace"]


@pytest.mark.parametrize("name", MANIFEST_NAMES)
def test_the_demo_script_applies_the_manifest_into_a_namespace_it_creates(name: str) -> None:
    script = DEMO_SCRIPT.read_text()
    namespace = manifest(name)["metadata"]["namespace"]

    assert f"examples/demo/{name}" in script
    assert namespace in script
