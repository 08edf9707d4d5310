"""Verdicts and decision records: what every judge returns and what the audit trail keeps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from airollout.core.analysis.pods import PodHealth
from airollout.core.analysis.types import AnalysisSettings, MetricResult, Observation
from airollout.core.judge.summary import Brief, worded


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
    # A proceed now ends the rollout (no later slice watches the canary). True unless the
    # caller knows a larger slice follows: the strict reading is the safe default.
    promotes: bool = True
    # Stable still serves at a later slice, so the canary-versus-stable comparison keeps
    # gathering evidence after a proceed. False unless the caller knows: the strict reading.
    comparison_continues: bool = False
    # Each version's pods at the end of the window (canary, stable); None: not read.
    pods: tuple[PodHealth | None, PodHealth | None] = (None, None)


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
    response_format: str | None = None  # how the answer's shape was asked for (LLM only)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The final decision for one window, and everything that went into it."""

    action: Action
    reasoning: str
    metrics: tuple[MetricResult, ...]
    opinions: tuple[Opinion, ...]
    overrides: tuple[str, ...] = ()  # safety rules that changed a judge's answer, in words
    # The main reason in one clause, for people skimming: `summary` when given in words,
    # else `brief` when the judge left it to be worded (judge.summary); see `summary_of`.
    summary: str = ""
    brief: Brief | None = None


_CAPITALISED = {action: action.value.capitalize() for action in Action}


def summary_of(verdict: Verdict) -> str:
    """The verdict's main reason in one clause; a judge that gave none has the first sentence
    of its reasoning. Worded only here, when a record is written, not at every decision."""
    if verdict.summary:
        return verdict.summary
    if verdict.brief is not None:
        return worded(verdict.brief)
    return _first_sentence(verdict.reasoning)


def summary_line(verdict: Verdict, weight: int) -> str:
    """The verdict in one line: "Rollback at 10 %: canary error rate 5.2 % (...) is above
    the 0.5 % bound"."""
    reason = summary_of(verdict)
    opening = f"{_CAPITALISED[verdict.action]} at {weight} %"
    return f"{opening}: {reason}." if reason else f"{opening}."


def _first_sentence(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    end = first.find(". ")
    return (first[:end] if end >= 0 else first.rstrip(".")).strip()


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
