"""Signals v1: parsed as the format says, and bad input named by its field."""

from __future__ import annotations

from typing import Any

import pytest

from airollout.core.promotion.signals import (
    Signals,
    SignalsError,
    TestSignal,
    signals_from_json,
    signals_to_json,
)

pytestmark = pytest.mark.unit

EXAMPLE: dict[str, Any] = {
    "tests": {"total": 812, "failed": 0, "skipped": 3},
    "coverage_delta": -0.4,
    "benchmarks": {"regressions": 0, "worst_ratio": 1.02, "names": ["parse"]},
    "vulnerabilities": {"critical": 0, "high": 1, "medium": 3, "fixable_critical": 0},
    "dependencies": {"added": 1, "updated": 2, "removed": 0},
    "change": {"files": 12, "lines": 340, "risk_tier": "medium"},
    "production": {"error_rate": 0.0012, "alerts_firing": 0},
    "history": {"rollouts": 20, "incidents": 1},
}


def test_the_format_example_round_trips_with_its_extra_keys() -> None:
    parsed = signals_from_json(EXAMPLE)
    assert parsed.tests == TestSignal(total=812, failed=0, skipped=3)
    assert parsed.benchmarks is not None
    assert parsed.benchmarks.extra == {"names": ["parse"]}
    assert signals_to_json(parsed) == EXAMPLE


def test_every_signal_is_optional_and_a_missing_one_is_named() -> None:
    parsed = signals_from_json({"coverage_delta": 0.5})
    assert parsed == Signals(coverage_delta=0.5)
    assert "tests" in parsed.missing()
    assert "coverage_delta" not in parsed.missing()


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"tests": {"total": 10, "failed": -1}}, "signals.tests.failed: must be an integer >= 0"),
        ({"tests": {"total": 10, "failed": 1.5}}, "signals.tests.failed: must be an integer"),
        ({"tests": {"total": 2, "failed": 3}}, "signals.tests.failed: 3 is more than"),
        ({"tests": [1]}, "signals.tests: must be an object"),
        ({"coverage_delta": "low"}, "signals.coverage_delta: must be a finite number"),
        ({"benchmarks": {"worst_ratio": 0}}, "signals.benchmarks.worst_ratio: must be"),
        ({"vulnerabilities": {"high": True}}, "signals.vulnerabilities.high: must be an integer"),
        ({"change": {"risk_tier": "huge"}}, "signals.change.risk_tier: must be one of"),
        ({"production": {"error_rate": 2.0}}, "signals.production.error_rate: must be a number"),
        ({"history": {"rollouts": 1, "incidents": 2}}, "signals.history.incidents: 2 is more"),
        ({"test": {}}, "signals.test: unknown signal"),
    ],
)
def test_bad_input_names_the_field(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(SignalsError) as error:
        signals_from_json(obj)
    assert str(error.value).startswith(message)
