"""A `Judge` for modes llm and hybrid: the rules judge, then the LLM, then `policy.combine`.

The LLM is reached through the `OpinionSource` protocol, so this module (and the benchmark
that may run it) needs no network import; `llm.LLMJudge` is the real source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from airollout.core.analysis.types import AnalysisSettings, Observation
from airollout.core.judge.policy import JudgeMode, combine
from airollout.core.judge.prompt import HISTORY_LIMIT, PastDecision
from airollout.core.judge.types import Action, DecisionContext, Judge, Opinion, Verdict


class OpinionSource(Protocol):
    def opinion(
        self, context: DecisionContext, rules: Verdict, history: Sequence[PastDecision] = ()
    ) -> Opinion: ...


class CombinedJudge:
    """State is `{"rules": <the rules judge's state>, "history": [<past decisions>]}`."""

    def __init__(self, rules: Judge, llm: OpinionSource, mode: JudgeMode) -> None:
        self.rules, self.llm, self.mode = rules, llm, mode
        self.name = f"{rules.name}+llm-{mode.value}"

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return {"rules": self.rules.initial_state(settings), "history": []}

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        rules_verdict, rules_state = self.rules.decide(settings, state["rules"], context, window)
        history = [_past_decision(entry) for entry in state["history"]]
        opinion = None
        if self.mode is not JudgeMode.RULES:
            opinion = self.llm.opinion(context, rules_verdict, history)
        verdict = combine(self.mode, rules_verdict, opinion)
        entry = {
            "slice_index": context.slice_index,
            "weight": context.weight,
            "window_index": context.window_index,
            "action": verdict.action.value,
            "reasoning": verdict.reasoning[:300],
        }
        new_history = [*state["history"], entry][-HISTORY_LIMIT:]
        return verdict, {"rules": rules_state, "history": new_history}


def _past_decision(entry: Mapping[str, Any]) -> PastDecision:
    return PastDecision(
        slice_index=int(entry["slice_index"]),
        weight=int(entry["weight"]),
        window_index=int(entry["window_index"]),
        action=Action(entry["action"]),
        reasoning=str(entry["reasoning"]),
    )
