"""The benchmark's *weight applied*: the last slice counts once the promote is awaited, not
once the whole promotion is over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airollout.core.rollout.timeline import to_rfc3339
from airollout_tools.bench.scale.watching import DecisionWatch

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


def status(phase: str, weight: int, awaiting: str | None, **more: Any) -> dict[str, Any]:
    fields = {"phase": phase, "weight": weight, "awaiting": awaiting, **more}
    return {"metadata": {"name": "a"}, "status": fields}


def test_the_last_weight_is_applied_when_the_status_turns_to_awaiting_the_promote() -> None:
    watch = DecisionWatch()
    window = {"key": "g1-s1-w1", "end": to_rfc3339(T0)}
    decision = {"key": "g1-s1-w1", "time": to_rfc3339(T0), "action": "proceed", "weight": 50}
    watch.observe(status("Progressing", 50, None, window=window), T0 - timedelta(seconds=5))
    watch.observe(status("Promoting", 100, "g1-s2-weight", decisions=[decision]), T0)
    watch.observe(status("Promoting", 100, "g1-promote"), T0 + timedelta(seconds=3))
    watch.observe(status("Succeeded", 100, None), T0 + timedelta(seconds=90))
    assert watch.applied_delays((10, 50, 100)) == [pytest.approx(3.0)]


def test_a_weight_still_awaited_is_not_applied() -> None:
    watch = DecisionWatch()
    window = {"key": "g1-s0-w1", "end": to_rfc3339(T0)}
    decision = {"key": "g1-s0-w1", "time": to_rfc3339(T0), "action": "proceed", "weight": 10}
    watch.observe(status("Progressing", 10, None, window=window), T0 - timedelta(seconds=5))
    watch.observe(status("Progressing", 50, "g1-s1-weight", decisions=[decision]), T0)
    assert watch.applied_delays((10, 50, 100)) == []
    watch.observe(status("Progressing", 50, None), T0 + timedelta(seconds=7))
    assert watch.applied_delays((10, 50, 100)) == [pytest.approx(7.0)]
