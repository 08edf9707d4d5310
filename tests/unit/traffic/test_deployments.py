"""When a Deployment counts as scaled or available, read from its status as the API gives it."""

from __future__ import annotations

from typing import Any

import pytest

from airollout.adapters.kubernetes.deployments import is_available, is_scaled_to

pytestmark = pytest.mark.unit


def _deployment(wanted: int, generation: int = 2, **status: int) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": wanted},
        "status": {"observedGeneration": 2, **status},
    }


def test_scaled_when_spec_ready_and_pod_count_all_match() -> None:
    assert is_scaled_to(_deployment(3, readyReplicas=3, replicas=3), 3)


@pytest.mark.parametrize(
    "deployment",
    [
        _deployment(3, readyReplicas=2, replicas=3),  # a pod not ready yet
        _deployment(3, readyReplicas=3, replicas=4),  # a surplus pod still running
        _deployment(4, readyReplicas=3, replicas=3),  # spec asks for another count
        _deployment(3, generation=3, readyReplicas=3, replicas=3),  # change not yet observed
    ],
)
def test_not_scaled_while_anything_lags(deployment: dict[str, Any]) -> None:
    assert not is_scaled_to(deployment, 3)


def test_zero_replicas_is_scaled_when_status_omits_the_counts() -> None:
    assert is_scaled_to(_deployment(0), 0)


def test_updated_also_requires_every_pod_on_the_current_template() -> None:
    old_pods = _deployment(2, readyReplicas=2, replicas=2, updatedReplicas=1)

    assert is_scaled_to(old_pods, 2)
    assert not is_scaled_to(old_pods, 2, updated=True)


def test_available_needs_updated_ready_and_available_all_at_spec() -> None:
    done = {"replicas": 4, "updatedReplicas": 4, "readyReplicas": 4, "availableReplicas": 4}

    assert is_available(_deployment(4, **done))
    assert not is_available(_deployment(4, **{**done, "availableReplicas": 3}))
    assert not is_available(_deployment(4, **{**done, "updatedReplicas": 3}))
