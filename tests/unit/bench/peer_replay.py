"""Replaying crafted windows through one baseline judge, with the settings every scenario gets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airollout.core.judge.types import Action, DecisionContext, Judge
from airollout_tools.sim.scenario import parse_scenario
from airollout_tools.sim.simulator import analysis_settings

SETTINGS = analysis_settings(parse_scenario({"expect": "proceed"}, source="t", default_name="t"))
CONTEXT = DecisionContext("r", "ns", "rev", 0, 10, 1, 60.0)


def replay(judge: Judge, windows: Sequence[Any]) -> list[Action]:
    """The judge's action for each window in turn, its state carried across them."""
    state = judge.initial_state(SETTINGS)
    actions = []
    for observations in windows:
        verdict, state = judge.decide(SETTINGS, state, CONTEXT, observations)
        actions.append(verdict.action)
    return actions
