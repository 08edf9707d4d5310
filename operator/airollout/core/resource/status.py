"""The AIRollout status: everything the operator needs to resume after a crash (invariant 5)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class Phase(StrEnum):
    PENDING = "Pending"
    SELECTING = "Selecting"
    TESTING = "Testing"
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
    """One aspect of the rollout's state, as `kubectl describe` and `kubectl wait` read it."""

    type: str = Field(description="Progressing, Paused or Completed.")
    status: str = Field(description="True, False or Unknown.")
    reason: str = Field(description="Why, in one CamelCase word.")
    message: str = Field(description="Why, for people.")
    observed_generation: int | None = Field(
        default=None, description="The spec generation this condition describes."
    )
    last_transition_time: str | None = Field(
        default=None, description="When status last changed (RFC 3339)."
    )


class AnalysisWindow(CamelModel):
    """The analysis window open at the current slice, kept so a restart resumes it."""

    key: str = Field(description="Idempotency key of the window, e.g. g1-s0-w2.")
    start: str = Field(description="Start of the window (RFC 3339).")
    end: str = Field(description="End of the window (RFC 3339).")
    judging: bool = Field(
        default=False, description="The judge has been asked; its verdict is awaited."
    )


class AIRolloutStatus(CamelModel):
    """What the operator has done and decided; written only by the operator."""

    observed_generation: int | None = Field(
        default=None, description="The spec generation the operator last acted on."
    )
    phase: Phase = Field(default=Phase.PENDING, description="Where the rollout stands.")
    reason: str = Field(
        default="", description="CamelCase cause of the current phase, as the conditions say."
    )
    paused_from: Phase | None = Field(default=None, description="The phase a resume returns to.")
    blocked_by: str | None = Field(
        default=None, description="The AIRollout that already owns the same target."
    )
    awaiting: str | None = Field(
        default=None, description="Key of the action whose completion is awaited."
    )
    window: AnalysisWindow | None = None
    window_seq: int = Field(
        default=0, description="Windows opened this generation; keeps window keys unique."
    )
    slice: int | None = Field(default=None, description="Index into spec.traffic.slices.")
    weight: int = Field(default=0, ge=0, le=100, description="The canary's traffic percentage.")
    windows_at_slice: int = Field(
        default=0, description="Analysis windows judged at the current slice."
    )
    slice_started_at: str | None = Field(
        default=None, description="When the current weight was applied (RFC 3339)."
    )
    hold_since: str | None = Field(
        default=None, description="When the current hold began (RFC 3339)."
    )
    message: str = Field(default="", description="The current phase, for people.")
    last_decision: str | None = Field(
        default=None, description="The newest decision in one line, for `kubectl get`."
    )
    decisions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The newest decision records; all of them are in the decision log.",
    )
    # Records the decision log has not taken yet (it failed); written and dropped by later
    # reconciles, so a failing log never stops the rollout. Oldest first, capped.
    pending_records: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Decision records the decision log has not taken yet, oldest first.",
    )
    evidence: dict[str, Any] = Field(
        default_factory=dict, description="The judge's state carried from window to window."
    )
    template_hash: str | None = Field(
        default=None, description="Hash of the spec.template the evidence was gathered on."
    )
    analysis_restarted: str | None = Field(
        default=None, description="Why the evidence was reset; the next record says it."
    )
    conditions: list[Condition] = Field(
        default_factory=list, description="Progressing, Paused and Completed."
    )
    test_plan: dict[str, Any] | None = Field(
        default=None, description="The plan the selection Job returned (tests, shards, risk)."
    )
    tests: dict[str, Any] | None = Field(
        default=None,
        description="Totals of the tests Job: passed, failed, skipped, failing node ids.",
    )
    promotion: dict[str, Any] | None = Field(
        default=None,
        description="The promotion Job's verdict: score, decision, blocks, signals, "
        "the largest contributions, model.",
    )
    review_since: str | None = Field(
        default=None, description="When the wait for a person's review began (RFC 3339)."
    )


# Typed shapes of the free-form status fields above. The fields stay dicts so the state
# machine can store what it holds without a conversion step; these models build and read
# them, and the CRD describes them (keeping unknown keys, so nothing is pruned).


class CheckRecord(CamelModel):
    """One statistical test of a metric and its outcome."""

    test: str = Field(description="The test that was run.")
    outcome: str = Field(description="pass, fail, not-yet or no-data.")
    statistic: float | None = Field(default=None, description="The test's statistic.")
    threshold: float | None = Field(default=None, description="The statistic's threshold.")
    evidence: float | None = Field(default=None, description="Evidence gathered so far.")
    message: str = Field(default="", description="The outcome, for people.")


class MetricRecord(CamelModel):
    """What one metric showed in the window."""

    name: str = Field(description="The metric's name in spec.analysis.metrics.")
    kind: str = Field(description="errorRate, latency or gauge.")
    canary_value: float | None = Field(default=None, description="The canary's value.")
    stable_value: float | None = Field(default=None, description="Stable's value.")
    canary_n: float = Field(default=0.0, description="The canary's sample size.")
    stable_n: float = Field(default=0.0, description="Stable's sample size.")
    bound: CheckRecord | None = Field(default=None, description="The test against min/max.")
    comparison: CheckRecord | None = Field(default=None, description="The canary-vs-stable test.")


class OpinionRecord(CamelModel):
    """What one judge said."""

    judge: str = Field(description="Which judge, e.g. rules or llm.")
    action: str | None = Field(
        default=None, description="proceed, hold or rollback; unset: no usable answer."
    )
    reasoning: str = Field(default="", description="The judge's reasons.")
    model: str | None = Field(default=None, description="The LLM's model.")
    latency_seconds: float | None = Field(default=None, description="Time to the answer.")
    prompt_tokens: int | None = Field(default=None, description="Tokens sent to the LLM.")
    completion_tokens: int | None = Field(default=None, description="Tokens it answered.")
    error: str | None = Field(default=None, description="Why there is no usable answer.")
    response_format: str | None = Field(
        default=None, description="json_schema, json_object or prompt (LLM only)."
    )


class DecisionRecord(CamelModel):
    """One verdict in the audit trail: what was seen, who said what, and what was done."""

    time: str = Field(description="When it was decided (RFC 3339).")
    action: str = Field(
        description="proceed, hold or rollback; a promotion verdict: auto-promote, "
        "manual-review or block."
    )
    key: str | None = Field(default=None, description="Key of the window it judged.")
    summary: str = Field(default="", description="The verdict and its main reason, one line.")
    reasoning: str = Field(description="The verdict's reasons in full.")
    revision: str | None = Field(default=None, description="spec.revision at the time.")
    slice: int | None = Field(default=None, description="Index into spec.traffic.slices.")
    weight: int = Field(default=0, ge=0, le=100, description="The canary's percentage.")
    window: int | None = Field(default=None, description="The window's number at its slice.")
    metrics: list[MetricRecord] = Field(default_factory=list, description="Each metric's data.")
    opinions: list[OpinionRecord] = Field(default_factory=list, description="Each judge's say.")
    overrides: list[str] = Field(
        default_factory=list, description="Where the safety rules overrode a judge."
    )
    analysis_restarted: str | None = Field(
        default=None, description="Set on the first record after a new canary version: why."
    )
    promotion: dict[str, Any] | None = Field(
        default=None,
        description="Only on the promotion verdict: score, decision, blocks, signals, model.",
    )
