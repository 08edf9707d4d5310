"""The judge a request's `judge` section names: the rules, or the rules with an LLM.

The same judges as an AIRollout's (modes rules, hybrid and llm through `CombinedJudge`, so
the same safety floor); the API key is read from its Secret in the Rollout's namespace for
each call and handed only to the LLM client. One client per endpoint, model and key is kept
for the endpoint's life, so each call does not open a new HTTP pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from kubernetes import client

from airollout.adapters.kubernetes.secrets import secret_value
from airollout.adapters.llm.openai_judge import LLMJudge, LLMSettings
from airollout.core.judge.combined import CombinedJudge, OpinionSource
from airollout.core.judge.rules import RulesJudge
from airollout.core.judge.types import DecisionContext, Judge, Opinion, Verdict
from airollout.core.resource.spec import JudgeMode
from airollout.web.request import AnalysisRequest


class _Unusable:
    """The LLM's place when it cannot be asked at all: its opinion is an error, so the
    rules verdict stands, as with an AIRollout."""

    def __init__(self, error: str) -> None:
        self.error = error

    def opinion(self, context: DecisionContext, rules: Verdict, history: object = ()) -> Opinion:
        return Opinion(judge="llm", action=None, reasoning="", error=self.error)


class Judges:
    def __init__(
        self,
        core: client.CoreV1Api,
        make_llm: Callable[[LLMSettings], OpinionSource] = LLMJudge,
    ) -> None:
        self.core, self.make_llm = core, make_llm
        self._clients: dict[LLMSettings, OpinionSource] = {}
        self._lock = threading.Lock()

    def __call__(self, request: AnalysisRequest) -> Judge:
        rules = RulesJudge()
        spec = request.judge
        if spec.mode is JudgeMode.RULES or spec.llm is None:
            return rules
        api_key, error = "", None
        if spec.llm.api_key_secret_ref is not None:
            ref = spec.llm.api_key_secret_ref
            api_key, error = secret_value(self.core, request.namespace, ref.name, ref.key)
        if error is not None:
            return CombinedJudge(rules, _Unusable(error), spec.mode)
        settings = LLMSettings.from_spec(spec.llm, api_key)
        with self._lock:
            llm = self._clients.get(settings)
            if llm is None:
                llm = self._clients[settings] = self.make_llm(settings)
        return CombinedJudge(rules, llm, spec.mode)

    def close(self) -> None:
        with self._lock:
            for llm in self._clients.values():
                close = getattr(llm, "close", None)
                if close is not None:
                    close()
            self._clients.clear()
