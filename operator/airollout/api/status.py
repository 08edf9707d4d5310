"""The AIRollout status: everything the operator needs to resume after a crash (invariant 5)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class Phase(StrEnum):
    PENDING = "Pending"
    SELECTING = "Selecting"
    EVALUATING = "Evaluating"
    AWAITING_APPROVAL = "AwaitingApproval"
    BLOCKED = "Blocked"
    PROGRESSING = "Progressing"
    PAUSED = "Paused"
    PROMOTING = "Promoting"
    SUCCEEDED = "Succeeded"
    ROLLED_BACK = "RolledBack"
    FAILED = "Failed"


TERMINAL_PHASES = frozenset({Phase.SUCCEEDED, Phase.ROLLED_BACK, Phase.FAILED})
PENDING_RECORDS_KEPT = 50  # a record is a few KiB; the status must stay far below 1 MiB


class CamelModel(BaseModel):
    """Python names in snake_case, Kubernetes names in camelCase."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Condition(CamelModel):
    type: str
    status: str  # "True" | "False" | "Unknown"
    reason: str
    message: str
    observed_generation: int | None = None
    last_transition_time: str | None = None


class AnalysisWindow(CamelModel):
    """The analysis window open at the current slice, kept so a restart resumes it."""

    key: str
    start: str  # RFC 3339
    end: str
    judging: bool = False  # the judge has been asked; its verdict is awaited


class AIRolloutStatus(CamelModel):
    observed_generation: int | None = None
    phase: Phase = Phase.PENDING
    reason: str = ""  # CamelCase cause of the current phase, as the conditions show it
    paused_from: Phase | None = None  # the phase a resume returns to
    blocked_by: str | None = None  # the AIRollout that owns the same target
    awaiting: str | None = None  # key of the action whose acknowledgement is awaited
    window: AnalysisWindow | None = None  # the open analysis window at the current slice
    window_seq: int = 0  # windows opened this generation; keeps window keys unique
    slice: int | None = None  # index into spec.traffic.slices
    weight: int = Field(default=0, ge=0, le=100)
    windows_at_slice: int = 0  # analysis windows judged at the current slice
    slice_started_at: str | None = None  # RFC 3339: when the current weight was applied
    hold_since: str | None = None
    applied_step: str | None = None  # key of the last traffic change applied: "g<gen>-s<slice>"
    message: str = ""
    last_decision: str | None = None  # newest record's action and one line, for `kubectl get`
    decisions: list[dict[str, Any]] = Field(default_factory=list)  # last records, capped
    # Records the decision log has not taken yet (it failed); written and dropped by later
    # reconciles, so a failing log never stops the rollout. Oldest first, capped.
    pending_records: list[dict[str, Any]] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)  # judge state carried across windows
    template_hash: str | None = None  # of the spec.template the evidence was gathered on
    analysis_restarted: str | None = None  # why the evidence was reset; the next record says it
    test_plan: dict[str, Any] | None = None
    promotion: dict[str, Any] | None = None
    conditions: list[Condition] = Field(default_factory=list)


# Typed shapes of the free-form status fields above. The fields stay dicts so the state
# machine can store what it holds without a conversion step; these models build and read
# them, and the CRD describes them (keeping unknown keys, so nothing is pruned).


class CheckRecord(CamelModel):
    test: str
    outcome: str
    statistic: float | None = None
    threshold: float | None = None
    evidence: float | None = None
    message: str = ""


class MetricRecord(CamelModel):
    name: str
    kind: str
    canary_value: float | None = None
    stable_value: float | None = None
    canary_n: float = 0.0
    stable_n: float = 0.0
    bound: CheckRecord | None = None
    comparison: CheckRecord | None = None


class OpinionRecord(CamelModel):
    judge: str
    action: str | None = None  # None: the judge gave no usable answer (see error)
    reasoning: str = ""
    model: str | None = None
    latency_seconds: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None
    response_format: str | None = None  # json_schema | json_object | prompt (LLM only)


class DecisionRecord(CamelModel):
    """One verdict in the audit trail: what was seen, who said what, and what was done."""

    time: str  # RFC 3339
    action: str  # proceed | hold | rollback
    key: str | None = None  # the idempotency key of the window it judged
    summary: str = ""  # the verdict and its main reason in one line; details in `reasoning`
    reasoning: str
    revision: str | None = None
    slice: int | None = None
    weight: int = Field(default=0, ge=0, le=100)
    window: int | None = None
    metrics: list[MetricRecord] = Field(default_factory=list)
    opinions: list[OpinionRecord] = Field(default_factory=list)
    overrides: list[str] = Field(default_factory=list)
    analysis_restarted: str | None = None  # the first record after a new canary version says so


class TestPlan(CamelModel):
    """What the selection Job decided to run for this change."""

    __test__ = False  # not a pytest test class, whatever its name says

    suites: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    reason: str = ""


class PromotionDecision(StrEnum):
    AUTO_PROMOTE = "auto-promote"
    MANUAL_REVIEW = "manual-review"
    BLOCK = "block"


class PromotionResult(CamelModel):
    """The promotion Job's confidence score and what the thresholds made of it."""

    score: float = Field(ge=0, le=1)
    decision: PromotionDecision
    reasons: list[str] = Field(default_factory=list)
