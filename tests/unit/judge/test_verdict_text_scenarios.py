"""No verdict text shows a stand-in value or a doubled word, in any of the repository's
scenarios: the summary, the reasoning, every check's message and `airollout status`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from airollout.cli.render import render_decision
from airollout.core.analysis.types import AnalysisSettings, Observation
from airollout.core.judge.records import decision_record
from airollout.core.judge.rules import RulesJudge
from airollout.core.judge.types import DecisionContext, Verdict
from airollout.core.resource.status import DecisionRecord
from airollout_tools.sim.scenario import Scenario, load_folder
from airollout_tools.sim.simulator import run_scenario

pytestmark = pytest.mark.unit

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
# What a number looks like when it is a placeholder rather than a measurement: a cap, an
# infinity, "not a number", a missing value printed by Python, or words standing for them.
SENTINEL = re.compile(
    r"1e\+300|e\+30[0-9]|\binf(inity)?\b|\bnan\b|\bNone\b|undefined|no edge", re.IGNORECASE
)
DOUBLED = re.compile(r"\b([a-z]+)\b[\s.,:;]+\1\b", re.IGNORECASE)


class Recording:
    """The rules judge, keeping each verdict with its context (a compiled class is final)."""

    def __init__(self) -> None:
        self.judge = RulesJudge()
        self.name = self.judge.name
        self.records: list[DecisionRecord] = []

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return self.judge.initial_state(settings)

    def decide(
        self,
        settings: AnalysisSettings,
        state: Any,
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        verdict, new_state = self.judge.decide(settings, state, context, window)
        self.records.append(decision_record(verdict, context, "2026-01-01T00:00:00Z"))
        return verdict, new_state


def scenarios() -> tuple[Scenario, ...]:
    found = load_folder(SCENARIOS)
    assert found, f"no scenarios in {SCENARIOS}"
    return found


def texts(record: DecisionRecord) -> Iterator[tuple[str, str]]:
    """(where, text) for every message a person reads about this record."""
    yield "summary", record.summary
    yield "reasoning", record.reasoning
    for metric in record.metrics:
        for check in (metric.bound, metric.comparison):
            if check is not None:
                yield f"{metric.name} {check.test}", check.message


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda scenario: scenario.name)
def test_no_verdict_text_shows_a_stand_in_value_or_a_doubled_word(scenario: Scenario) -> None:
    judge = Recording()
    run_scenario(scenario, judge)
    assert judge.records, "the scenario was judged"

    for record in judge.records:
        assert "\n" not in record.summary
        assert record.summary.startswith(f"{record.action.capitalize()} at {record.weight} %: ")
        for where, text in texts(record):
            assert not SENTINEL.search(text), f"{where}: {text}"
            assert not DOUBLED.search(text), f"{where}: {text}"
        rendered = "\n".join(render_decision(record))
        assert not SENTINEL.search(rendered), rendered


def test_the_checks_catch_what_the_old_texts_showed() -> None:
    """The patterns above fail on the texts the demo printed before summaries existed."""
    old = (
        "compare msprt-rate-ratio-mean → not-yet (statistic 1e+300, threshold 1.1)",
        "canary/stable ratio of requests slower than (no edge yet) (stable's p99) undefined",
        "e-value 1.01e+304 >= 100",
    )
    assert all(SENTINEL.search(text) for text in old)
    assert DOUBLED.search("Window 1 at 10 %: hold. Hold at 10% (slice 0, window 1)")
