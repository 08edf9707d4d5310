"""What the operator hands the promotion Job: the tests Job's totals and the plan's tier."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from airollout.adapters.reports.collect import Inputs, collect
from airollout.adapters.reports.common import ReportError
from airollout.adapters.reports.job_results import read_test_totals
from airollout.core.rollout.jobs import inputs_env

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 5, 10, tzinfo=UTC)
DATA = Path(__file__).parent / "data"


def test_the_totals_the_operator_passes_on_become_the_tests_signal() -> None:
    totals = {"passed": 40, "failed": 2, "skipped": 1, "failing": ["tests/test_a.py::test_x"]}
    env = inputs_env("4f2a1c", "3e1b0a", "checkout", plan=None, test_results=totals)
    reading = read_test_totals(env["AIROLLOUT_TEST_RESULTS"])
    assert reading.signals == {"tests": {"total": 43, "failed": 2, "skipped": 1}}
    assert "failing: tests/test_a.py::test_x" in reading.notes[0]


def test_the_plan_gives_the_risk_tier_unless_one_is_given(tmp_path: Path) -> None:
    plan = {"full_suite": False, "tests": [], "risk_tier": "high", "reasoning": "core changed"}
    env = inputs_env("4f2a1c", None, "checkout", plan=plan)
    from_plan = collect(Inputs(test_plan=env["AIROLLOUT_TEST_PLAN"]), NOW)
    assert from_plan.signals == {"change": {"risk_tier": "high"}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    given = collect(Inputs(test_plan=f"@{path}", risk_tier="low", change_lines=5), NOW)
    assert given.signals == {"change": {"lines": 5, "risk_tier": "low"}}


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        (Inputs(test_results="{passed: 3}"), "--test-results: not valid JSON"),
        (Inputs(test_results='{"passed": -1}'), "--test-results: passed must be an integer"),
        (Inputs(test_results='{"failing": "a"}'), "failing must be a list"),
        (Inputs(test_results="@/no/such/file.json"), "/no/such/file.json: cannot be read"),
        (Inputs(test_plan='{"risk_tier": "extreme"}'), "--test-plan: risk_tier must be one of"),
        (
            Inputs(test_results='{"passed": 1}', junit=(DATA / "junit_pytest.xml",)),
            "--junit and --test-results: give one",
        ),
    ],
)
def test_bad_job_inputs_are_errors_naming_the_flag(inputs: Inputs, problem: str) -> None:
    with pytest.raises(ReportError, match=problem):
        collect(inputs, NOW)
