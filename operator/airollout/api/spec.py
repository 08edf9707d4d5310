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

from airollout.analysis.types import MetricKind
from airollout.api.durations import DURATION_PATTERN, parse_duration

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

    api_version: str = "apps/v1"
    kind: Literal["Deployment"] = "Deployment"
    name: ShortText


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

    image: ShortText | None = None
    container: ShortText | None = Field(
        default=None, description="Container that gets `image`; default: the first one."
    )
    pod_template_patch: dict[str, Any] | None = None


class Router(StrEnum):
    REPLICAS = "replicas"
    GATEWAY_API = "gatewayAPI"


class GatewayAPITraffic(SpecModel):
    """The HTTPRoute whose backend weights carry the traffic split."""

    http_route: ShortText
    stable_service: ShortText
    canary_service: ShortText


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
            (
                "self.router != 'gatewayAPI' || has(self.gatewayAPI)",
                "router gatewayAPI needs gatewayAPI.httpRoute and its services",
                ".gatewayAPI",
            ),
        )
    )

    router: Router = Router.REPLICAS
    slices: list[Annotated[int, Field(ge=1, le=100)]] = Field(
        default=[10, 25, 50, 100], min_length=1, max_length=MAX_SLICES
    )
    gateway_api: GatewayAPITraffic | None = Field(default=None, alias="gatewayAPI")


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
        )
    )

    name: Annotated[str, Field(min_length=1, max_length=63, pattern=NAME_PATTERN)]
    # Described here, not only by the enum's docstring: a compiled build (hack/compile.sh)
    # does not keep class docstrings, and the CRD must not depend on the build.
    kind: MetricKind = Field(
        default=MetricKind.GAUGE,
        description=(
            "How a metric's samples are read: counts of failures, a latency histogram, or a gauge."
        ),
    )
    query: Query | None = None
    error_query: Query | None = None
    total_query: Query | None = None
    buckets_query: Query | None = None
    quantile: float = Field(default=0.99, gt=0, lt=1)
    min: float | None = None
    max: float | None = None
    compare: Comparison = Comparison.BASELINE


class PrometheusSpec(SpecModel):
    address: Annotated[str, Field(max_length=2048, pattern=URL_PATTERN)]


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

    interval: Duration = "2m"
    warmup: Duration = "30s"
    prometheus: PrometheusSpec | None = None
    metrics: list[MetricSpec] = Field(default_factory=list, max_length=MAX_METRICS)
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
    name: ShortText
    key: ShortText


class LLMSpec(SpecModel):
    """Any OpenAI-compatible endpoint; the API key comes from a Secret, never from the spec."""

    model: ShortText
    base_url: Annotated[str, Field(max_length=2048, pattern=URL_PATTERN)] | None = Field(
        default=None, alias="baseURL"
    )
    api_key_secret_ref: SecretKeyRef | None = None
    timeout: Duration = "20s"
    max_retries: int = Field(default=2, ge=0, le=10)

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout)


class JudgeSpec(SpecModel):
    model_config = ConfigDict(
        json_schema_extra=_rules(
            ("self.mode == 'rules' || has(self.llm)", "judge modes llm and hybrid need llm", ".llm")
        )
    )

    mode: JudgeMode = JudgeMode.RULES
    llm: LLMSpec | None = None


class HoldExpiry(StrEnum):
    """What a hold turns into when nobody acts in time.

    Never proceed: a hold means the evidence was not enough, and time alone adds none
    (safety invariant 2).
    """

    ROLLBACK = "rollback"
    PAUSE = "pause"


class OnHoldSpec(SpecModel):
    timeout: Duration
    then: HoldExpiry = HoldExpiry.ROLLBACK

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout)


class JobTemplateMetadata(SpecModel):
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class JobTemplate(SpecModel):
    """A batch/v1 JobTemplateSpec: `spec` is a JobSpec, passed to the apiserver as written."""

    metadata: JobTemplateMetadata | None = None
    spec: dict[str, Any]


class SelectionSpec(SpecModel):
    job_template: JobTemplate


class PromotionThresholds(SpecModel):
    model_config = ConfigDict(
        json_schema_extra=_rules(
            (
                "self.manualReview < self.autoPromote",
                "manualReview must be below autoPromote",
                ".manualReview",
            )
        )
    )

    auto_promote: float = Field(default=0.9, ge=0, le=1)
    manual_review: float = Field(default=0.7, ge=0, le=1)


class PromotionSpec(SpecModel):
    job_template: JobTemplate
    thresholds: PromotionThresholds = Field(default_factory=PromotionThresholds)


class AIRolloutSpec(SpecModel):
    """A progressive rollout of one Deployment to a new pod template."""

    target_ref: TargetRef
    template: PodTemplate
    revision: Annotated[str, Field(max_length=253)] | None = Field(
        default=None, description="Free text shown in the audit trail, e.g. a commit."
    )
    traffic: TrafficSpec = Field(default_factory=TrafficSpec)
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)
    judge: JudgeSpec = Field(default_factory=JudgeSpec)
    on_hold: OnHoldSpec | None = None
    selection: SelectionSpec | None = None
    promotion: PromotionSpec | None = None
    paused: bool = False
