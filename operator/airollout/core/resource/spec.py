"""The AIRollout spec: what a person asks for, as pydantic models that the CRD is generated from.

Rules that span fields are written twice on purpose: as CEL (`x-kubernetes-validations`) so
`kubectl apply` rejects them, and in `validation.py` so the operator rejects them too when a
resource reached it some other way (an older CRD, a dry run, a test).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

from airollout.core.resource.durations import DURATION_PATTERN, parse_duration
from airollout.core.resource.kinds import MetricKind

MAX_SLICES = 20  # bounds CEL cost: rules over slices are quadratic in their number
MAX_METRICS = 20
MAX_QUERY_LENGTH = 4096
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$"
URL_PATTERN = r"^https?://[^\s]+$"


def _checked_duration(text: str) -> str:
    parse_duration(text)
    return text


Duration = Annotated[
    str,
    AfterValidator(_checked_duration),
    WithJsonSchema(
        {"type": "string", "pattern": DURATION_PATTERN, "minLength": 2, "maxLength": 32}
    ),
]
ShortText = Annotated[str, Field(min_length=1, max_length=253)]
Query = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_LENGTH)]


def _rules(*rules: tuple[str, ...]) -> dict[str, Any]:
    """CEL rules for the CRD: (rule, message[, field the error names, relative to the object]).

    The field path lets `kubectl apply` point at `spec.traffic.slices` rather than at the
    object that holds the rule.
    """
    validations = []
    for rule, message, *field_path in rules:
        validations.append({"rule": rule, "message": message})
        if field_path:
            validations[-1]["fieldPath"] = field_path[0]
    return {"x-kubernetes-validations": validations}


class SpecModel(BaseModel):
    """Spec parts: camelCase on the wire, immutable, and unknown fields are errors (typos)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )


class TargetRef(SpecModel):
    """The workload whose pods the rollout changes."""

    api_version: str = Field(default="apps/v1", description="API version of the target.")
    kind: Literal["Deployment"] = Field(
        default="Deployment", description="Kind of the target: only Deployment for now."
    )
    name: ShortText = Field(description="Name of the Deployment, in the rollout's namespace.")


class PodTemplate(SpecModel):
    """What changes: a new image for every container, or a strategic patch of the pod template."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            (
                "has(self.image) != has(self.podTemplatePatch)",
                "set exactly one of image or podTemplatePatch",
            )
        )
    )

    image: ShortText | None = Field(
        default=None, description="New image of one container (see container)."
    )
    container: ShortText | None = Field(
        default=None, description="Container that gets `image`; default: the first one."
    )
    pod_template_patch: dict[str, Any] | None = Field(
        default=None,
        description="A strategic merge patch of the target's pod template, for changes "
        "beyond one image.",
    )


class Router(StrEnum):
    REPLICAS = "replicas"


class TrafficSpec(SpecModel):
    """How traffic moves: the router, and the canary's percentage at each slice."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            (
                "!has(self.slices) || (self.slices.isSorted()"
                " && self.slices.all(w, self.slices.exists_one(v, v == w)))",
                "slices must be strictly increasing",
                ".slices",
            ),
            (
                "!has(self.slices) || self.slices.size() == 0"
                " || self.slices[self.slices.size() - 1] == 100",
                "the last slice must be 100",
                ".slices",
            ),
        )
    )

    router: Router = Field(
        default=Router.REPLICAS,
        description="How traffic is split: replicas (the share of pods behind one Service).",
    )
    slices: list[Annotated[int, Field(ge=1, le=100)]] = Field(
        default=[10, 25, 50, 100],
        min_length=1,
        max_length=MAX_SLICES,
        description="The canary's percentage of traffic at each step, increasing, ending at 100.",
    )


class Comparison(StrEnum):
    BASELINE = "baseline"
    NONE = "none"


class MetricSpec(SpecModel):
    """One signal to judge. Queries are templates (`{{ workload }}`, `{{ window }}`, ...).

    errorRate reads counts (`errorQuery`, `totalQuery`, via increase()) so the statistics know
    the sample size; latency reads histogram buckets (`bucketsQuery`, summed by le); gauge
    reads one value (`query`).
    """

    model_config = ConfigDict(
        json_schema_extra=_rules(
            (
                "self.kind != 'errorRate' || (has(self.errorQuery) && has(self.totalQuery))",
                "kind errorRate needs errorQuery and totalQuery",
            ),
            ("self.kind != 'latency' || has(self.bucketsQuery)", "kind latency needs bucketsQuery"),
            ("self.kind != 'gauge' || has(self.query)", "kind gauge needs query"),
            (
                "has(self.min) || has(self.max) || self.compare == 'baseline'",
                "set min, max, or compare: baseline",
            ),
            (
                "!has(self.min) || !has(self.max) || self.min < self.max",
                "min must be below max",
                ".min",
            ),
            # An error rate is a fraction of requests: a bound outside [0, 1] is a unit
            # mistake (percent for fraction) that would never, or always, fail.
            (
                "self.kind != 'errorRate' || !has(self.max)"
                " || (self.max >= 0.0 && self.max <= 1.0)",
                "an errorRate max is a fraction from 0 to 1",
                ".max",
            ),
            (
                "self.kind != 'errorRate' || !has(self.min)"
                " || (self.min >= 0.0 && self.min <= 1.0)",
                "an errorRate min is a fraction from 0 to 1",
                ".min",
            ),
        )
    )

    name: Annotated[str, Field(min_length=1, max_length=63, pattern=NAME_PATTERN)] = Field(
        description="Unique name of the metric, shown in every decision record."
    )
    # Described here, not only by the enum's docstring: a compiled build (hack/compile.sh)
    # does not keep class docstrings, and the CRD must not depend on the build.
    kind: MetricKind = Field(
        default=MetricKind.GAUGE,
        description=(
            "How a metric's samples are read: counts of failures, a latency histogram, or a gauge."
        ),
    )
    query: Query | None = Field(
        default=None, description="PromQL of a gauge's value (kind gauge only)."
    )
    error_query: Query | None = Field(
        default=None, description="PromQL counting failed requests in the window (errorRate)."
    )
    total_query: Query | None = Field(
        default=None, description="PromQL counting all requests in the window (errorRate)."
    )
    buckets_query: Query | None = Field(
        default=None,
        description="PromQL of histogram bucket counts in the window, by le (latency).",
    )
    quantile: float = Field(
        default=0.99, gt=0, lt=1, description="Quantile of a latency metric, e.g. 0.99."
    )
    min: float | None = Field(
        default=None, description="Lowest acceptable canary value (a fraction for errorRate)."
    )
    max: float | None = Field(
        default=None,
        description="Highest acceptable canary value; for errorRate a fraction from 0 to 1.",
    )
    compare: Comparison = Field(
        default=Comparison.BASELINE,
        description="baseline: the canary must also be no worse than stable (by tolerance); "
        "none: only min and max count.",
    )


class PrometheusSpec(SpecModel):
    """The Prometheus the queries go to; default: the operator's --prometheus-url."""

    address: Annotated[str, Field(max_length=2048, pattern=URL_PATTERN)] = Field(
        description="Base URL, e.g. http://prometheus.monitoring:9090."
    )


class AnalysisSpec(SpecModel):
    """How each slice is judged: the observation window, the signals, the statistics."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            (
                "!has(self.metrics)"
                " || self.metrics.all(m, self.metrics.exists_one(n, n.name == m.name))",
                "metric names must be unique",
                ".metrics",
            )
        )
    )

    interval: Duration = Field(default="2m", description="Length of one analysis window.")
    warmup: Duration = Field(
        default="30s",
        description="Time after each traffic change that no window looks at; below interval.",
    )
    prometheus: PrometheusSpec | None = None
    metrics: list[MetricSpec] = Field(
        default_factory=list,
        max_length=MAX_METRICS,
        description="The signals judged at every window; names unique.",
    )
    alpha: float = Field(
        default=0.01, gt=0, lt=0.5, description="False-alarm level of the canary-vs-stable tests."
    )
    tolerance: float = Field(
        default=0.1, ge=0, le=10, description="Relative difference from stable that is harmless."
    )

    @property
    def interval_seconds(self) -> float:
        return parse_duration(self.interval)

    @property
    def warmup_seconds(self) -> float:
        return parse_duration(self.warmup)


class JudgeMode(StrEnum):
    RULES = "rules"
    LLM = "llm"
    HYBRID = "hybrid"


class SecretKeyRef(SpecModel):
    """A key of a Secret in the rollout's namespace."""

    name: ShortText = Field(description="Name of the Secret.")
    key: ShortText = Field(description="Key in the Secret's data.")


class LLMSpec(SpecModel):
    """Any OpenAI-compatible endpoint; the API key comes from a Secret, never from the spec."""

    model: ShortText = Field(description="Model name the endpoint serves.")
    base_url: Annotated[str, Field(max_length=2048, pattern=URL_PATTERN)] | None = Field(
        default=None, alias="baseURL", description="Endpoint's base URL; default: OpenAI's."
    )
    api_key_secret_ref: SecretKeyRef | None = Field(
        default=None,
        description="The Secret key holding the API key (the operator needs get on it).",
    )
    timeout: Duration = Field(default="20s", description="Longest wait for one answer.")
    max_retries: int = Field(
        default=2, ge=0, le=10, description="Retries of a failed request before giving up."
    )

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout)


class JudgeSpec(SpecModel):
    """Who decides at each window: the rules, optionally with an LLM."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            ("self.mode == 'rules' || has(self.llm)", "judge modes llm and hybrid need llm", ".llm")
        )
    )

    mode: JudgeMode = Field(
        default=JudgeMode.RULES,
        description="rules: statistics only; llm or hybrid: an LLM's opinion too, bounded by "
        "the rules (it can never proceed on failing or missing evidence).",
    )
    llm: LLMSpec | None = Field(default=None, description="The LLM judge; needed by llm, hybrid.")


class HoldExpiry(StrEnum):
    """What a hold turns into when nobody acts in time.

    Never proceed: a hold means the evidence was not enough, and time alone adds none
    (safety invariant 2).
    """

    ROLLBACK = "rollback"
    PAUSE = "pause"


class OnHoldSpec(SpecModel):
    """How long a hold (not enough evidence) may last, and what it becomes then."""

    timeout: Duration = Field(description="Longest time on hold at one slice.")
    then: HoldExpiry = Field(
        default=HoldExpiry.ROLLBACK,
        description="rollback or pause once the timeout passes; never proceed.",
    )

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout)


JobTemplate = Annotated[
    dict[str, Any],
    Field(
        description="A batch/v1 JobTemplateSpec (metadata, spec); spec.template.spec needs a "
        "container. The operator sets the name, owner, completions and the AIROLLOUT_* env."
    ),
]
MAX_TEST_PARALLELISM = 100


class JobSection(SpecModel):
    """What every Job of a rollout has: its template and its longest run."""

    job_template: JobTemplate
    active_deadline: Duration = Field(
        default="30m", description="Longest run of the Job (its activeDeadlineSeconds)."
    )

    @property
    def active_deadline_seconds(self) -> int:
        return max(1, round(parse_duration(self.active_deadline)))


class SelectionSpec(JobSection):
    """The test-selection Job run before any traffic moves; its plan is its termination
    message (compact JSON, as `airollout select plan --json` prints it)."""


class TestsSpec(JobSection):
    """An Indexed Job running the plan's shards, one pod each (`airollout select run-shard`
    reads JOB_COMPLETION_INDEX and the plan in AIROLLOUT_TEST_PLAN)."""

    max_parallelism: int = Field(
        default=4, ge=1, le=MAX_TEST_PARALLELISM, description="Most shards running at once."
    )
    active_deadline: Duration = Field(
        default="1h", description="Longest run of the Job (its activeDeadlineSeconds)."
    )


class PromotionThresholds(SpecModel):
    """Where the promotion score's tiers start: auto-promote, a person's review, block."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            (
                "!has(self.manualReview) || !has(self.autoPromote)"
                " || self.manualReview <= self.autoPromote",
                "manualReview must not be above autoPromote",
                ".manualReview",
            )
        )
    )

    auto_promote: float = Field(
        default=0.92, ge=0, le=1, description="Scores at or above this promote without a person."
    )
    manual_review: float = Field(
        default=0.75,
        ge=0,
        le=1,
        description="Scores from this up to autoPromote wait for a person; below it, blocked.",
    )


class ReviewExpiry(StrEnum):
    """What an unanswered review becomes once spec.promotion.reviewTimeout passes."""

    REJECT = "reject"
    APPROVE = "approve"


class PromotionSpec(JobSection):
    """The promotion-score Job run before traffic moves (after the tests, if any); its
    report is its termination message (one JSON line, as `airollout promotion score --json`
    prints it)."""

    thresholds: PromotionThresholds = Field(default_factory=PromotionThresholds)
    review_timeout: Duration | None = Field(
        default=None,
        description="Longest wait in AwaitingApproval; unset: a person decides however long.",
    )
    on_review_timeout: ReviewExpiry = Field(
        default=ReviewExpiry.REJECT,
        description="reject (default) or approve once reviewTimeout passes without an answer.",
    )
    active_deadline: Duration = Field(
        default="10m", description="Longest run of the Job (its activeDeadlineSeconds)."
    )

    @property
    def review_timeout_seconds(self) -> float | None:
        return None if self.review_timeout is None else parse_duration(self.review_timeout)


class AIRolloutSpec(SpecModel):
    """A progressive rollout of one Deployment to a new pod template."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            ("!has(self.tests) || has(self.selection)", "tests need selection", ".tests")
        )
    )

    target_ref: TargetRef
    template: PodTemplate
    revision: Annotated[str, Field(max_length=253)] | None = Field(
        default=None, description="Free text shown in the audit trail, e.g. a commit."
    )
    traffic: TrafficSpec = Field(default_factory=TrafficSpec)
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)
    judge: JudgeSpec = Field(default_factory=JudgeSpec)
    on_hold: OnHoldSpec | None = None
    paused: bool = Field(default=False, description="true: stop where it stands until false.")
    selection: SelectionSpec | None = Field(
        default=None, description="A Job choosing the tests this change needs, before traffic."
    )
    tests: TestsSpec | None = Field(
        default=None, description="A Job running the selected tests; needs selection."
    )
    promotion: PromotionSpec | None = Field(
        default=None,
        description="A Job scoring the confidence in this artifact, after the tests and "
        "before traffic: auto-promote, a person's review, or block.",
    )
