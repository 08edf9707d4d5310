"""Turning a baseline's per-metric answers into one Verdict the benchmark can score."""

from __future__ import annotations

from collections.abc import Sequence

from airollout.core.judge.types import Action, Opinion, Verdict

_SEVERITY = (Action.ROLLBACK, Action.HOLD)


def worst_action(actions: Sequence[Action]) -> Action:
    """The most cautious answer among metrics; no metric at all decides nothing, so holds."""
    if not actions:
        return Action.HOLD
    for action in _SEVERITY:
        if action in actions:
            return action
    return Action.PROCEED


def baseline_verdict(judge: str, action: Action, notes: Sequence[str]) -> Verdict:
    reasoning = f"{judge}: " + "; ".join(notes)
    return Verdict(action, reasoning, (), (Opinion(judge, action, reasoning),))


def show_value(value: float | None) -> str:
    return "no data" if value is None else f"{value:.4g}"
