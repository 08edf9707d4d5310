"""The repository's own scenarios (scenarios/): all load, the format doc lists each one, they
cover every kind of case, and the default judge gets every one right."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airollout.core.judge.rules import RulesJudge
from airollout.core.judge.types import Action
from airollout_tools.sim.scenario import Scenario, load_folder
from airollout_tools.sim.simulator import run_scenario

pytestmark = pytest.mark.unit

FOLDER = Path(__file__).resolve().parents[3] / "scenarios"
SCENARIOS = load_folder(FOLDER)


def test_every_file_loads_sorted_by_name() -> None:
    files = sorted(path.stem for path in FOLDER.glob("*.yaml"))
    assert [scenario.name for scenario in SCENARIOS] == files
    assert len(files) >= 12


def test_the_format_doc_lists_exactly_the_folders_files() -> None:
    table = (FOLDER / "README.md").read_text().split("## This folder", 1)[1]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.M)
    assert sorted(listed) == [scenario.name for scenario in SCENARIOS]


def test_every_outcome_is_expected_somewhere_and_every_file_describes_itself() -> None:
    assert {scenario.expect for scenario in SCENARIOS} == set(Action)
    assert all(scenario.description for scenario in SCENARIOS)


# Kept in the folder to show a limit, stated in the README: four 5 s windows at 600
# requests a second hold too few errors for the comparison to tell a tripled rate from noise.
KNOWN_MISSES = {"relative-regression-at-e2e-traffic"}


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(s, marks=pytest.mark.xfail(strict=True, reason="known limit"))
        if s.name in KNOWN_MISSES
        else s
        for s in SCENARIOS
    ],
    ids=lambda scenario: scenario.name,
)
def test_the_default_judge_gets_the_scenario_right(scenario: Scenario) -> None:
    result = run_scenario(scenario, RulesJudge())
    assert result.right, f"{result.outcome} where {scenario.expect} was expected"
    # The two errors that cost most: rolling back a good canary, promoting a bad one.
    assert (scenario.expect, result.outcome) not in {
        (Action.PROCEED, Action.ROLLBACK),
        (Action.ROLLBACK, Action.PROCEED),
    }
