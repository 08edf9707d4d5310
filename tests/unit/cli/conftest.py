"""Builders for the command tests: AIRollout manifests made from the api models."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from airollout.core.resource.status import (
    AIRolloutStatus,
    CheckRecord,
    Condition,
    DecisionRecord,
    MetricRecord,
    OpinionRecord,
    Phase,
)

Manifest = dict[str, Any]


def a_decision(
    key: str = "g1-s1-w1", action: str = "rollback", reasoning: str = "Error rate is 4x stable."
) -> DecisionRecord:
    return DecisionRecord(
        time="2025-03-01T10:02:00Z",
        action=action,
        key=key,
        reasoning=reasoning,
        revision="4f2a1c",
        slice=1,
        weight=25,
        window=3,
        metrics=[
            MetricRecord(
                name="error-rate",
                kind="errorRate",
                canary_value=0.0412,
                stable_value=0.0098,
                canary_n=5400,
                stable_n=48000,
                bound=CheckRecord(
                    test="max",
                    outcome="fail",
                    statistic=0.0412,
                    threshold=0.005,
                    message="above the bound with confidence",
                ),
                comparison=CheckRecord(
                    test="rate-ratio", outcome="worse", statistic=4.2, evidence=310.0
                ),
            )
        ],
        opinions=[
            OpinionRecord(judge="rules", action="rollback", reasoning="Bound breached."),
            OpinionRecord(
                judge="llm",
                action=None,
                model="gpt-4o",
                latency_seconds=20.5,
                prompt_tokens=812,
                completion_tokens=0,
                error="timed out after 20s",
            ),
        ],
        overrides=["The LLM gave no answer; the rules decision stands."],
    )


def a_manifest(
    status: AIRolloutStatus,
    decisions: Sequence[DecisionRecord] = (),
    paused: bool = False,
    annotations: dict[str, str] | None = None,
) -> Manifest:
    raw_status = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw_status["decisions"] = [
        record.model_dump(mode="json", by_alias=True, exclude_none=True) for record in decisions
    ]
    return {
        "apiVersion": "airollout.dev/v1alpha1",
        "kind": "AIRollout",
        "metadata": {
            "name": "checkout-4f2a1c",
            "namespace": "shop",
            "resourceVersion": "42",
            "annotations": annotations or {},
        },
        "spec": {
            "targetRef": {"kind": "Deployment", "name": "checkout"},
            "template": {"image": "registry.example/checkout:4f2a1c"},
            "revision": "4f2a1c",
            "traffic": {"slices": [10, 25, 50, 100]},
            "paused": paused,
        },
        "status": raw_status,
    }


def a_status(phase: Phase = Phase.PROGRESSING, **fields: Any) -> AIRolloutStatus:
    defaults: dict[str, Any] = {
        "slice": 1,
        "weight": 25,
        "reason": "SliceHealthy",
        "message": "Slice 2 of 4 is being analysed.",
        "conditions": [
            Condition(
                type="Progressing",
                status="True",
                reason="SliceHealthy",
                message="Traffic at 25%.",
                observed_generation=1,
            )
        ],
    }
    return AIRolloutStatus(phase=phase, **{**defaults, **fields})


@pytest.fixture
def decision() -> Callable[..., DecisionRecord]:
    return a_decision


@pytest.fixture
def manifest() -> Callable[..., Manifest]:
    return a_manifest


@pytest.fixture
def status() -> Callable[..., AIRolloutStatus]:
    return a_status
