"""The floor line: a judge that always holds.

It never promotes and never rolls back, so it makes no false rollback and misses no
regression; a column in which it scores well rewards not deciding, which is why the table
shows it (strict right outcomes, needless holds and windows to promote are where it loses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airollout.core.analysis.types import AnalysisSettings, Observation
from airollout.core.judge.types import Action, DecisionContext, Verdict
from airollout_tools.bench.baselines.verdicts import baseline_verdict


class AlwaysHoldJudge:
    name = "always-hold"

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return {}

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        return baseline_verdict(self.name, Action.HOLD, ["holds whatever it sees"]), {}
