"""The promotion score's optional narrative: an LLM explains the score and may lower it.

The judge's client (`LLMJudge`) is reused for its transport, retries, deadline, format
fallbacks and key redaction; only the answer differs, so `_read` is replaced. Plain JSON is
asked for in the prompt: the judge's json_schema is the rollout verdict's. The model sees
the score and what it was computed from; its `max_score` can only pull the score down
(`lowered`), and anything else (a late, refused or malformed answer) leaves the score as
the model computed it, with the reason in `Narration.error`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ConfigDict, Field

from airollout.adapters.llm.openai_judge import (
    AnswerFormat,
    InvalidAnswerError,
    LLMJudge,
    LLMSettings,
    parse_json_answer,
)
from airollout.core.judge.types import Opinion

NARRATIVE_MAX_CHARS = 2000
MAX_RECOMMENDATIONS = 5

SYSTEM = """You review a software artifact before it is promoted to production.
You get its promotion score: a calibrated probability that it reaches production without
a regression, from a logistic model, with each signal's contribution to the logit, the
hard blocks, and what was read from the reports. Explain in a few sentences what drives
the score, and recommend what to check or fix. If you see a risk the model cannot (for
example from the names of failing tests or the kind of dependency change), you may cap
the score with max_score; you can never raise it, so leave max_score null unless the
evidence is specific.
Answer with one JSON object only, no prose around it:
{"narrative": "...", "recommendations": ["..."], "max_score": null or a number in [0, 1]}"""


class PromotionAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    narrative: str = Field(min_length=1, max_length=NARRATIVE_MAX_CHARS)
    recommendations: list[str] = Field(default_factory=list, max_length=MAX_RECOMMENDATIONS)
    max_score: float | None = Field(default=None, ge=0.0, le=1.0)


@dataclass(frozen=True)
class Narration:
    narrative: str = ""
    recommendations: tuple[str, ...] = ()
    max_score: float | None = None
    error: str | None = None  # why there is no usable answer

    def lowered(self, probability: float) -> float:
        """The score after the answer: its cap where that is lower, else unchanged."""
        if self.error is not None or self.max_score is None:
            return probability
        return min(probability, self.max_score)


def messages(report: Mapping[str, Any], notes: Sequence[str]) -> list[dict[str, str]]:
    facts = {"report": report, "read": list(notes)}
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": json.dumps(facts, indent=1)},
    ]


class PromotionNarrator(LLMJudge):
    name = "llm-promotion"

    def __init__(self, settings: LLMSettings) -> None:
        # The verdict schema does not fit this answer: ask for plain JSON in the prompt.
        super().__init__(dataclasses.replace(settings, structured_output=False))
        self._answer: PromotionAnswer | None = None

    def narrate(self, report: Mapping[str, Any], notes: Sequence[str]) -> Narration:
        self._answer = None
        opinion = self.ask(messages(report, notes))
        answer = self._answer
        if answer is None:
            return Narration(error=opinion.error or "no usable answer")
        return Narration(
            narrative=self._redact(answer.narrative),
            recommendations=tuple(self._redact(item) for item in answer.recommendations),
            max_score=answer.max_score,
        )

    def _read(
        self, response: ChatCompletion, started: float, answer_format: AnswerFormat
    ) -> Opinion:
        accounting: dict[str, Any] = {
            "model": response.model or self.settings.model,
            "latency_s": self._clock() - started,
            "response_format": answer_format,
        }
        message = response.choices[0].message if response.choices else None
        if message is None or not message.content:
            refusal = message.refusal if message is not None else None
            return self._unusable(f"refused: {refusal}" if refusal else "empty answer", accounting)
        try:
            self._answer = parse_json_answer(message.content, PromotionAnswer)
        except InvalidAnswerError as exc:
            return self._unusable(str(exc), accounting)
        return Opinion(judge=self.name, action=None, reasoning="", **accounting)
