"""The benchmark's honest columns: strict right, needless holds, windows to promote, excess harm
and a detect time measured on one set of scenarios for every judge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from airollout.core.analysis.types import AnalysisSettings, Observation
from airollout.core.judge.types import Action, DecisionContext, Verdict
from airollout_tools.bench.decisions import report_json, run_benchmark
from airollout_tools.bench.scoring import excess_harm
from airollout_tools.sim.model import SliceStart
from airollout_tools.sim.scenario import Scenario, parse_scenario
from airollout_tools.sim.simulator import ERROR_RATE_METRIC, run_scenario, simulate_window

pytestmark = pytest.mark.unit


@dataclass
class ScriptedJudge:
    """Answers from a script per scenario and window number; `default` when the script ends."""

    script: Mapping[str, Sequence[Action]]
    default: Action = Action.PROCEED
    name: str = "scripted"

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return {"seen": 0}

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        seen = int(state["seen"])
        answers = self.script.get(context.rollout, ())
        action = answers[seen] if seen < len(answers) else self.default
        return Verdict(action, "scripted", (), ()), {"seen": seen + 1}


def make(name: str, expect: str, **fields: Any) -> Scenario:
    return parse_scenario({"expect": expect, **fields}, source=name, default_name=name)


def summaries(scenarios: Sequence[Scenario], judges: Mapping[str, ScriptedJudge]) -> Any:
    factories = {name: (lambda judge=judge: judge) for name, judge in judges.items()}
    report = run_benchmark(scenarios, factories, throughput_seconds=0.001)
    return {summary.judge: summary for summary in report.judges}, report


def test_strict_right_counts_the_expected_outcome_not_an_accepted_one() -> None:
    scenarios = [make("slow-regression", "rollback", accept=["hold"], canary={"error_rate": 0.2})]
    by_name, _ = summaries(
        scenarios,
        {"holds": ScriptedJudge({}, Action.HOLD), "rolls": ScriptedJudge({}, Action.ROLLBACK)},
    )
    assert (by_name["holds"].right, by_name["holds"].strict_right) == (1, 0)
    assert (by_name["rolls"].right, by_name["rolls"].strict_right) == (1, 1)


def test_needless_holds_and_windows_to_promote_charge_a_hesitant_judge() -> None:
    scenarios = [make("healthy", "proceed"), make("broken", "rollback", canary={"error_rate": 0.2})]
    hesitant = [Action.HOLD, Action.PROCEED] * 4  # one hold at each of the 4 slices
    by_name, _ = summaries(
        scenarios,
        {
            "hesitant": ScriptedJudge({"healthy": hesitant, "broken": [Action.HOLD] * 3}),
            "prompt": ScriptedJudge({"broken": [Action.ROLLBACK]}),
            "never": ScriptedJudge({}, Action.HOLD),
        },
    )
    # Holds where rollback was right are not needless: only the healthy scenario's count.
    assert by_name["hesitant"].needless_holds == 4
    assert by_name["hesitant"].windows_to_promote == 8
    assert (by_name["prompt"].needless_holds, by_name["prompt"].windows_to_promote) == (0, 4)
    # Never promoting: 3 holds at the first slice, and no window count to promote at all.
    assert (by_name["never"].needless_holds, by_name["never"].windows_to_promote) == (3, None)


def test_excess_harm_is_canary_failures_beyond_stables_rate_on_the_same_requests() -> None:
    scenario = make("broken", "rollback", stable={"error_rate": 0.01}, canary={"error_rate": 0.2})
    result = run_scenario(scenario, ScriptedJudge({}, Action.ROLLBACK))
    window = simulate_window(scenario, [SliceStart(0.0, 10)], 1, 0.0)
    requests = sum(step.canary[ERROR_RATE_METRIC].requests or 0.0 for step in window.observations)
    assert result.harm == window.canary_errors > 0
    assert excess_harm(scenario, result) == pytest.approx(window.canary_errors - 0.01 * requests)


def test_a_shared_outage_and_a_healthy_canary_add_almost_no_excess_harm() -> None:
    outage = make(
        "outage", "rollback", events=[{"version": "both", "from_s": 0, "set": {"error_rate": 0.05}}]
    )
    broken = make("broken", "rollback", canary={"error_rate": 0.05})
    late = ScriptedJudge({}, Action.HOLD)
    harmed = {s.name: run_scenario(s, late) for s in (outage, broken)}
    assert harmed["outage"].harm > 50
    # The same canary failures, but stable failed as often: only noise is left.
    assert excess_harm(outage, harmed["outage"]) < 0.25 * harmed["outage"].harm
    assert excess_harm(broken, harmed["broken"]) > 0.9 * harmed["broken"].harm


def test_excess_harm_is_scored_only_where_rollback_was_right() -> None:
    scenarios = [
        make("noisy-healthy", "proceed", stable={"error_rate": 0.0}, canary={"error_rate": 0.02})
    ]
    by_name, report = summaries(scenarios, {"promotes": ScriptedJudge({})})
    assert by_name["promotes"].harm > 0
    assert by_name["promotes"].excess_harm == 0
    detail = report_json(report)["judges"]["promotes"]["scenarios"]["noisy-healthy"]
    assert (detail["outcome"], detail["windows"]) == ("proceed", 4)
    assert detail["harm"] > 0


def test_detect_time_is_measured_on_the_regressions_every_rolling_back_judge_caught() -> None:
    scenarios = [
        make("early", "rollback", canary={"error_rate": 0.2}),
        make("late", "rollback", canary={"error_rate": 0.2}),
    ]
    by_name, report = summaries(
        scenarios,
        {
            "fast": ScriptedJudge({}, Action.ROLLBACK),
            # Misses "early", catches "late" after 2 holds: 3 windows of 60 s.
            "picky": ScriptedJudge(
                {"early": [Action.PROCEED] * 4, "late": [Action.HOLD] * 2}, Action.ROLLBACK
            ),
            "floor": ScriptedJudge({}, Action.HOLD),  # rolls nothing back: does not empty the set
        },
    )
    assert by_name["fast"].detect_s_median == 60  # on "late" only, not on "early" too
    assert by_name["picky"].detect_s_median == 180
    assert by_name["floor"].detect_s_median is None
    assert report_json(report)["judges"]["fast"]["scenarios"]["early"]["detect_s"] == 60
