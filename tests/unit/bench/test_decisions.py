"""The benchmark scores each judge, prints the documented JSON, and is reproducible."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airollout.core.analysis.types import AnalysisSettings, Observation
from airollout.core.judge.types import Action, DecisionContext, Verdict
from airollout_tools.bench.cli import load_scenarios
from airollout_tools.bench.decisions import render_table, report_json, run_benchmark
from airollout_tools.bench.judges import BASELINES
from airollout_tools.sim.scenario import Scenario, parse_scenario

pytestmark = pytest.mark.unit


@dataclass
class ConstantJudge:
    action: Action
    name: str = "constant"

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return {}

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        return Verdict(self.action, "constant", (), ()), {}


def make(name: str, expect: str, **fields: Any) -> Scenario:
    return parse_scenario({"expect": expect, **fields}, source=name, default_name=name)


SCENARIOS = (
    make("fine", "proceed"),
    make("fine-or-hold", "proceed", accept=["hold"]),
    make("broken", "rollback", canary={"error_rate": 0.2}),
    make("outage", "hold", accept=["rollback"]),
)


def test_summary_counts_right_false_rollbacks_and_missed_regressions() -> None:
    judges = {
        "proceed": lambda: ConstantJudge(Action.PROCEED),
        "rollback": lambda: ConstantJudge(Action.ROLLBACK),
        "hold": lambda: ConstantJudge(Action.HOLD),
    }
    report = run_benchmark(SCENARIOS, judges, throughput_seconds=0.01)
    by_name = {summary.judge: summary for summary in report.judges}
    assert (by_name["proceed"].right, by_name["proceed"].missed_regressions) == (2, 1)
    assert by_name["proceed"].false_rollbacks == 0
    assert (by_name["rollback"].right, by_name["rollback"].false_rollbacks) == (2, 2)
    assert by_name["hold"].right == 2
    # Rollback after the first window, the canary faulty from the start: one window to detect.
    assert by_name["rollback"].detect_s_median == 60
    assert by_name["proceed"].detect_s_median is None
    assert by_name["proceed"].harm > by_name["rollback"].harm > 0
    assert all(summary.decisions_per_s > 0 for summary in report.judges)


def test_json_has_exactly_the_documented_schema() -> None:
    report = run_benchmark(SCENARIOS, BASELINES, throughput_seconds=0.01)
    document = report_json(report)
    assert set(document) == {"scenarios", "judges"}
    assert document["scenarios"] == len(SCENARIOS)
    assert set(document["judges"]) == set(BASELINES)
    for entry in document["judges"].values():
        assert set(entry) == {
            "right",
            "strict_right",
            "false_rollbacks",
            "missed_regressions",
            "needless_holds",
            "windows_to_promote",
            "harm",
            "excess_harm",
            "detect_s_median",
            "decisions_per_s",
            "outcomes",
            "scenarios",
        }
        for key in (
            "right",
            "strict_right",
            "false_rollbacks",
            "missed_regressions",
            "needless_holds",
            "harm",
        ):
            assert type(entry[key]) is int
        assert set(entry["scenarios"]) == {scenario.name for scenario in SCENARIOS}
        for detail in entry["scenarios"].values():
            assert {"outcome", "harm", "excess_harm", "windows"} <= set(detail)
        assert entry["detect_s_median"] is None or isinstance(entry["detect_s_median"], float)
        assert isinstance(entry["decisions_per_s"], float)
        assert set(entry["outcomes"]) == {scenario.name for scenario in SCENARIOS}
        assert set(entry["outcomes"].values()) <= {"proceed", "hold", "rollback"}


def test_same_scenarios_and_seeds_give_the_same_result() -> None:
    def without_timing(document: dict[str, Any]) -> dict[str, Any]:
        for entry in document["judges"].values():
            entry.pop("decisions_per_s")
        return document

    first = report_json(run_benchmark(SCENARIOS, BASELINES, throughput_seconds=0.01))
    second = report_json(run_benchmark(SCENARIOS, BASELINES, throughput_seconds=0.01))
    assert without_timing(first) == without_timing(second)


def test_table_has_a_row_per_judge_and_marks_wrong_outcomes() -> None:
    judges = {"always-proceed": lambda: ConstantJudge(Action.PROCEED)}
    table = render_table(run_benchmark(SCENARIOS, judges, throughput_seconds=0.01))
    assert "always-proceed  2/4    2/4" in table
    broken_row = next(line for line in table.splitlines() if line.startswith("broken"))
    assert broken_row.split()[-1] == "proceed*"


def test_the_same_name_in_two_folders_is_kept_apart(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.yaml").write_text("expect: proceed\n")
    names = [s.name for s in load_scenarios([tmp_path / "a", tmp_path / "b"])]
    assert names == ["same", "b/same"]
