"""Verdicts and decision records: what every judge returns and what the audit trail keeps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from airollout.analysis.types import AnalysisSettings, MetricResult, Observation


class Action(StrEnum):
    PROCEED = "proceed"
    HOLD = "hold"
    ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """Where the rollout stands when a verdict is asked for.

    `labels` holds strings read from the cluster or from metrics: untrusted data, only ever
    quoted in a prompt, never followed as an instruction (safety invariant 4).
    """

    rollout: str
    namespace: str
    revision: str
    slice_index: int
    weight: int
    window_index: int  # windows observed at this slice so far, counting this one from 1
    elapsed_s: float  # since the rollout started
    labels: Mapping[str, str] = field(default_factory=dict)


class Opinion(NamedTuple):
    """What one judge said, with the accounting the record needs.

    A named tuple, like the analysis results: one is built at every decision (see
    analysis.types)."""

    judge: str  # "rules", "llm"
    action: Action | None  # None when the judge gave no usable answer
    reasoning: str
    model: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None  # why the answer was ignored (timeout, schema, refusal, ...)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The final decision for one window, and everything that went into it."""

    action: Action
    reasoning: str
    metrics: tuple[MetricResult, ...]
    opinions: tuple[Opinion, ...]
    overrides: tuple[str, ...] = ()  # safety rules that changed a judge's answer, in words


class Judge(Protocol):
    """A judge decides once per analysis window, carrying its evidence across windows.

    `state` is JSON-serialisable (it is kept in the resource's status so a restarted operator
    resumes the same sequential test) and is never mutated: `decide` returns a new one.
    """

    @property
    def name(self) -> str:
        """The judge's name in records and benchmark tables."""

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]: ...

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]: ...
