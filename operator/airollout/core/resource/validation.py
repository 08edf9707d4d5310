"""Spec validation with every message starting at the field path (`spec.traffic.slices[2]: ...`).

Shape errors come from pydantic and are rewritten into that style; rules across fields are
checked here on the parsed spec. The CRD carries the same rules as CEL, so most of these
never reach the operator; this is the second line of defence and the source of messages for
resources the apiserver did not check (a dry run, an older CRD, a test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from airollout.core.resource.durations import parse_duration
from airollout.core.resource.kinds import MetricKind
from airollout.core.resource.spec import (
    NAME_PATTERN,
    URL_PATTERN,
    AIRolloutSpec,
    AnalysisSpec,
    Comparison,
    JudgeMode,
    JudgeSpec,
    MetricSpec,
    OnHoldSpec,
    PodTemplate,
    PromotionSpec,
    SelectionSpec,
    TestsSpec,
    TrafficSpec,
)

ROOT = "spec"

# The query fields each metric kind reads; any other query field set on it is a mistake.
QUERIES_BY_KIND: Mapping[MetricKind, tuple[str, ...]] = {
    MetricKind.ERROR_RATE: ("errorQuery", "totalQuery"),
    MetricKind.LATENCY: ("bucketsQuery",),
    MetricKind.GAUGE: ("query",),
}
ALL_QUERIES = ("query", "errorQuery", "totalQuery", "bucketsQuery")
PATTERN_MEANINGS: Mapping[str, str] = {
    URL_PATTERN: "must be an http:// or https:// URL",
    NAME_PATTERN: "must be lowercase letters, digits, '-', '_' or '.', "
    "starting and ending with a letter or digit",
}


@dataclass(frozen=True, slots=True)
class FieldError:
    path: str  # e.g. "spec.traffic.slices[2]"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SpecError(ValueError):
    """An invalid spec; the message lists every problem, one per line."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


def validate(spec: Any) -> list[FieldError]:
    """Every problem with `spec` (the resource's `spec`, as read from the cluster)."""
    if not isinstance(spec, Mapping):
        return [FieldError(ROOT, "must be an object")]
    try:
        AIRolloutSpec.model_validate(spec)
        shape_errors = []
    except ValidationError as invalid:
        shape_errors = [_field_error(detail) for detail in invalid.errors()]
    return shape_errors + list(_cross_field_errors(spec))


def parse_spec(spec: Any) -> AIRolloutSpec:
    """The spec as a model, or SpecError naming every invalid field."""
    errors = validate(spec)
    if errors:
        raise SpecError(errors)
    return AIRolloutSpec.model_validate(spec)


def field_path(location: Sequence[int | str], root: str = ROOT) -> str:
    path = root
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _field_error(detail: ErrorDetails) -> FieldError:
    return FieldError(field_path(detail["loc"]), _message(detail))


_MESSAGES: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: "required",
    "extra_forbidden": lambda ctx: "unknown field",
    "greater_than_equal": lambda ctx: f"must be at least {ctx['ge']:g}",
    "greater_than": lambda ctx: f"must be greater than {ctx['gt']:g}",
    "less_than_equal": lambda ctx: f"must be at most {ctx['le']:g}",
    "less_than": lambda ctx: f"must be less than {ctx['lt']:g}",
    "enum": lambda ctx: (
        f"must be one of {ctx['expected']}"
        if " or " in ctx["expected"]
        else f"must be {ctx['expected']}"
    ),
    "literal_error": lambda ctx: f"must be {ctx['expected']}",
    "string_pattern_mismatch": lambda ctx: PATTERN_MEANINGS.get(
        ctx["pattern"], f"must match {ctx['pattern']}"
    ),
    "string_too_short": lambda ctx: (
        "must not be empty"
        if ctx["min_length"] == 1
        else f"must be at least {ctx['min_length']} characters"
    ),
    "string_too_long": lambda ctx: f"must be at most {ctx['max_length']} characters",
    "too_short": lambda ctx: f"must have at least {ctx['min_length']} items",
    "too_long": lambda ctx: f"must have at most {ctx['max_length']} items",
    "model_type": lambda ctx: "must be an object",
    "dict_type": lambda ctx: "must be an object",
    "list_type": lambda ctx: "must be a list",
}


def _message(detail: ErrorDetails) -> str:
    explain = _MESSAGES.get(detail["type"])
    if explain is not None:
        return explain(detail.get("ctx", {}))
    text = detail["msg"].removeprefix("Value error, ")
    return text[:1].lower() + text[1:]


def _template_errors(template: PodTemplate) -> Iterator[FieldError]:
    if (template.image is None) == (template.pod_template_patch is None):
        yield FieldError("spec.template", "set exactly one of image or podTemplatePatch")


def _traffic_errors(traffic: TrafficSpec) -> Iterator[FieldError]:
    yield from _slice_errors(traffic.slices)


def _judge_errors(judge: JudgeSpec) -> Iterator[FieldError]:
    if judge.mode is not JudgeMode.RULES and judge.llm is None:
        yield FieldError("spec.judge.llm", f"required when mode is {judge.mode.value}")


def _on_hold_errors(on_hold: OnHoldSpec) -> Iterator[FieldError]:
    if on_hold.timeout_seconds <= 0:
        yield FieldError("spec.onHold.timeout", "must be longer than 0s")


def _slice_errors(slices: Sequence[int]) -> Iterator[FieldError]:
    for index in range(1, len(slices)):
        if slices[index] <= slices[index - 1]:
            yield FieldError(
                f"spec.traffic.slices[{index}]", f"must be greater than {slices[index - 1]}"
            )
    if slices and slices[-1] != 100:
        yield FieldError(f"spec.traffic.slices[{len(slices) - 1}]", "the last slice must be 100")


def _analysis_errors(analysis: AnalysisSpec) -> Iterator[FieldError]:
    interval_s = parse_duration(analysis.interval)
    if interval_s <= 0:
        yield FieldError("spec.analysis.interval", "must be longer than 0s")
    elif analysis.warmup_seconds >= interval_s:
        # Every window would fall inside the warm-up: no data, ever, so an endless hold.
        yield FieldError(
            "spec.analysis.warmup", f"must be shorter than interval ({analysis.interval})"
        )
    first_index: dict[str, int] = {}
    for index, metric in enumerate(analysis.metrics):
        path = f"spec.analysis.metrics[{index}]"
        if metric.name in first_index:
            yield FieldError(f"{path}.name", f"duplicate of metrics[{first_index[metric.name]}]")
        first_index.setdefault(metric.name, index)
        yield from _metric_errors(path, metric)


def _metric_errors(path: str, metric: MetricSpec) -> Iterator[FieldError]:
    wire = metric.model_dump(by_alias=True)
    needed = QUERIES_BY_KIND[metric.kind]
    for field in ALL_QUERIES:
        if field in needed and wire[field] is None:
            yield FieldError(f"{path}.{field}", f"required for kind {metric.kind.value}")
        elif field not in needed and wire[field] is not None:
            wanted = " and ".join(needed)
            yield FieldError(
                f"{path}.{field}", f"not used by kind {metric.kind.value} (set {wanted})"
            )
    if metric.min is None and metric.max is None and metric.compare is Comparison.NONE:
        yield FieldError(path, "set min, max, or compare: baseline")
    if metric.min is not None and metric.max is not None and metric.min >= metric.max:
        yield FieldError(f"{path}.min", f"must be below max ({metric.max:g})")
    if metric.kind is MetricKind.ERROR_RATE:
        yield from _fraction_errors(path, metric)


def _fraction_errors(path: str, metric: MetricSpec) -> Iterator[FieldError]:
    """An error rate is a fraction of requests: 1.5 is a percent written as a fraction."""
    for field, bound in (("min", metric.min), ("max", metric.max)):
        if bound is not None and not 0.0 <= bound <= 1.0:
            yield FieldError(
                f"{path}.{field}",
                f"an errorRate bound is a fraction from 0 to 1, got {bound:g}",
            )


def job_template_errors(path: str, template: Mapping[str, Any]) -> Iterator[FieldError]:
    """A Job needs a pod with a container; what the operator sets itself must be left out."""
    job_spec = template.get("spec")
    pod = job_spec.get("template") if isinstance(job_spec, Mapping) else None
    pod_spec = pod.get("spec") if isinstance(pod, Mapping) else None
    containers = pod_spec.get("containers") if isinstance(pod_spec, Mapping) else None
    if not isinstance(containers, list) or not containers:
        yield FieldError(f"{path}.spec.template.spec.containers", "must list a container")
    elif not all(isinstance(c, Mapping) for c in containers):
        yield FieldError(f"{path}.spec.template.spec.containers", "must be objects")
    for owned in ("completions", "completionMode"):
        if isinstance(job_spec, Mapping) and owned in job_spec:
            yield FieldError(f"{path}.spec.{owned}", "is set by the operator: leave it out")


def _selection_errors(selection: SelectionSpec) -> Iterator[FieldError]:
    yield from job_template_errors("spec.selection.jobTemplate", selection.job_template)


def _tests_errors(tests: TestsSpec) -> Iterator[FieldError]:
    yield from job_template_errors("spec.tests.jobTemplate", tests.job_template)


def _promotion_errors(promotion: PromotionSpec) -> Iterator[FieldError]:
    yield from job_template_errors("spec.promotion.jobTemplate", promotion.job_template)
    thresholds = promotion.thresholds
    if thresholds.manual_review > thresholds.auto_promote:
        yield FieldError(
            "spec.promotion.thresholds.manualReview",
            f"must not be above autoPromote ({thresholds.auto_promote:g})",
        )
    timeout = promotion.review_timeout_seconds
    if timeout is not None and timeout <= 0:
        yield FieldError("spec.promotion.reviewTimeout", "must be longer than 0s")


@dataclass(frozen=True, slots=True)
class _Section:
    """A part of the spec whose rules can be checked on its own once it parses."""

    field: str  # wire name under spec
    model: type[BaseModel]
    errors: Callable[[Any], Iterator[FieldError]]


# Absent sections take their defaults, which are valid by construction, so only present
# ones are checked; a shape error elsewhere in the spec does not hide these.
_SECTIONS = (
    _Section("template", PodTemplate, _template_errors),
    _Section("traffic", TrafficSpec, _traffic_errors),
    _Section("analysis", AnalysisSpec, _analysis_errors),
    _Section("judge", JudgeSpec, _judge_errors),
    _Section("onHold", OnHoldSpec, _on_hold_errors),
    _Section("selection", SelectionSpec, _selection_errors),
    _Section("tests", TestsSpec, _tests_errors),
    _Section("promotion", PromotionSpec, _promotion_errors),
)


def _cross_field_errors(spec: Mapping[str, Any]) -> Iterator[FieldError]:
    if spec.get("tests") is not None and spec.get("selection") is None:
        yield FieldError("spec.tests", "needs spec.selection: the tests run the plan it makes")
    for section in _SECTIONS:
        raw = spec.get(section.field)
        if raw is None:
            continue
        try:
            parsed = section.model.model_validate(raw)
        except ValidationError:
            continue  # already reported, with its path, by the whole-spec validation
        yield from section.errors(parsed)
