"""With an Argo Rollout, each version's series carry its pod template hash."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from airollout.core.analysis.types import Version
from airollout_tools.sim.scenario import parse_scenario
from airollout_tools.sim.workload import HASH_LABEL, ReadyReplicas, Workload, WorkloadSettings

pytestmark = pytest.mark.unit


def _hashes_by_version(built: Workload) -> dict[str, set[str]]:
    text = generate_latest(built.registry).decode()
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.labels["version"], set()).add(sample.labels[HASH_LABEL])
    return found


def test_series_are_labelled_with_the_hash_the_source_names_at_each_poll() -> None:
    hashes = {Version.STABLE: "57d4b9c8f", Version.CANARY: "6f9c7d8b5"}
    now = [100.0]
    scenario = parse_scenario({"expect": "proceed"}, source="test", default_name="test")
    built = Workload(
        scenario,
        lambda: ReadyReplicas(3, 1),
        WorkloadSettings(namespace="shop", target="web"),
        lambda: now[0],
        hash_source=lambda: hashes,
    )
    built.poll_shares()
    now[0] += 1.0
    built.tick()
    assert _hashes_by_version(built) == {"stable": {"57d4b9c8f"}, "canary": {"6f9c7d8b5"}}

    hashes = {Version.STABLE: "6f9c7d8b5"}  # promoted: the canary's hash is stable now
    built.poll_shares()
    assert _hashes_by_version(built)["stable"] == {"6f9c7d8b5"}
