import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from airollout.core.resource.spec import AIRolloutSpec, HoldExpiry, JudgeMode
from airollout.core.resource.validation import FieldError, SpecError, parse_spec, validate

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).parents[3] / "examples"

Spec = dict[str, Any]
JOB = {"spec": {"template": {"spec": {"containers": [{"name": "score", "image": "score:1"}]}}}}


def minimal_spec() -> Spec:
    return {
        "targetRef": {"kind": "Deployment", "name": "checkout"},
        "template": {"image": "registry.example/checkout:2"},
        "analysis": {
            "metrics": [
                {"name": "errors", "kind": "errorRate", "errorQuery": "e", "totalQuery": "t"}
            ]
        },
    }


def changed(edit: Callable[[Spec], object]) -> Spec:
    spec = minimal_spec()
    edit(spec)
    return spec


def metric(spec: Spec) -> Spec:
    found: Spec = spec["analysis"]["metrics"][0]
    return found


def test_minimal_spec_is_valid_and_takes_the_documented_defaults() -> None:
    parsed = parse_spec(minimal_spec())

    assert parsed.traffic.slices == [10, 25, 50, 100]
    assert parsed.traffic.router.value == "replicas"
    assert parsed.analysis.interval_seconds == 120.0
    assert parsed.analysis.warmup_seconds == 30.0
    assert parsed.judge.mode is JudgeMode.RULES
    assert parsed.on_hold is None
    assert parsed.paused is False
    assert parsed.target_ref.api_version == "apps/v1"


def test_example_manifest_is_valid() -> None:
    manifest = yaml.safe_load((EXAMPLES / "checkout-rollout.yaml").read_text())

    assert manifest["apiVersion"] == "airollout.dev/v1alpha1"
    assert manifest["kind"] == "AIRollout"
    assert validate(manifest["spec"]) == []
    parsed = parse_spec(manifest["spec"])
    assert parsed.judge.llm is not None
    assert parsed.judge.llm.timeout_seconds == 20.0
    assert parsed.on_hold is not None
    assert parsed.on_hold.then is HoldExpiry.ROLLBACK


def test_a_fully_specified_spec_is_valid() -> None:
    spec = changed(
        lambda s: s.update(
            template={"podTemplatePatch": {"spec": {"containers": [{"name": "a", "image": "x"}]}}},
            traffic={"router": "replicas", "slices": [1, 5, 100]},
            judge={
                "mode": "llm",
                "llm": {"model": "m", "apiKeySecretRef": {"name": "n", "key": "k"}},
            },
            onHold={"timeout": "1h30m", "then": "pause"},
            paused=True,
        )
    )

    assert validate(spec) == []


INVALID: list[tuple[str, Callable[[Spec], object], str, str]] = [
    (
        "slices not increasing",
        lambda s: s.update(traffic={"slices": [10, 25, 25, 100]}),
        "spec.traffic.slices[2]",
        "must be greater than 25",
    ),
    (
        "slices decreasing",
        lambda s: s.update(traffic={"slices": [50, 20, 100]}),
        "spec.traffic.slices[1]",
        "must be greater than 50",
    ),
    (
        "slices not ending at 100",
        lambda s: s.update(traffic={"slices": [10, 50]}),
        "spec.traffic.slices[1]",
        "the last slice must be 100",
    ),
    (
        "slice above 100",
        lambda s: s.update(traffic={"slices": [10, 101]}),
        "spec.traffic.slices[1]",
        "must be at most 100",
    ),
    (
        "slice of zero",
        lambda s: s.update(traffic={"slices": [0, 100]}),
        "spec.traffic.slices[0]",
        "must be at least 1",
    ),
    (
        "no slices",
        lambda s: s.update(traffic={"slices": []}),
        "spec.traffic.slices",
        "must have at least 1 items",
    ),
    (
        "router not built yet",
        lambda s: s.update(traffic={"router": "gatewayAPI"}),
        "spec.traffic.router",
        "must be 'replicas'",
    ),
    (
        "promotion thresholds outside [0, 1]",
        lambda s: s.update(promotion={"jobTemplate": JOB, "thresholds": {"autoPromote": 1.5}}),
        "spec.promotion.thresholds.autoPromote",
        "must be at most 1",
    ),
    (
        "image and patch both",
        lambda s: s["template"].update(podTemplatePatch={"spec": {}}),
        "spec.template",
        "set exactly one of image or podTemplatePatch",
    ),
    (
        "neither image nor patch",
        lambda s: s.update(template={}),
        "spec.template",
        "set exactly one of image or podTemplatePatch",
    ),
    (
        "missing target name",
        lambda s: s.update(targetRef={"kind": "Deployment"}),
        "spec.targetRef.name",
        "required",
    ),
    (
        "target not a Deployment",
        lambda s: s["targetRef"].update(kind="CronJob"),
        "spec.targetRef.kind",
        "must be 'Deployment'",
    ),
    ("missing template", lambda s: s.pop("template"), "spec.template", "required"),
    (
        "typo in a field name",
        lambda s: s["traffic" if "traffic" in s else "analysis"].update(intervall="2m"),
        "spec.analysis.intervall",
        "unknown field",
    ),
    (
        "bad interval",
        lambda s: s["analysis"].update(interval="2 minutes"),
        "spec.analysis.interval",
        "must be a duration such as 30s, 2m or 1h30m, got '2 minutes'",
    ),
    (
        "zero interval",
        lambda s: s["analysis"].update(interval="0s"),
        "spec.analysis.interval",
        "must be longer than 0s",
    ),
    (
        "warmup as long as the interval",
        lambda s: s["analysis"].update(interval="1m", warmup="60s"),
        "spec.analysis.warmup",
        "must be shorter than interval (1m)",
    ),
    (
        "alpha of zero",
        lambda s: s["analysis"].update(alpha=0),
        "spec.analysis.alpha",
        "must be greater than 0",
    ),
    (
        "negative tolerance",
        lambda s: s["analysis"].update(tolerance=-0.1),
        "spec.analysis.tolerance",
        "must be at least 0",
    ),
    (
        "prometheus address not a URL",
        lambda s: s["analysis"].update(prometheus={"address": "prom:9090"}),
        "spec.analysis.prometheus.address",
        "must be an http:// or https:// URL",
    ),
    (
        "errorRate without totalQuery",
        lambda s: metric(s).pop("totalQuery"),
        "spec.analysis.metrics[0].totalQuery",
        "required for kind errorRate",
    ),
    (
        "errorRate with a gauge query",
        lambda s: metric(s).update(query="q"),
        "spec.analysis.metrics[0].query",
        "not used by kind errorRate (set errorQuery and totalQuery)",
    ),
    (
        "latency without bucketsQuery",
        lambda s: s["analysis"].update(metrics=[{"name": "p99", "kind": "latency", "max": 1}]),
        "spec.analysis.metrics[0].bucketsQuery",
        "required for kind latency",
    ),
    (
        "gauge without query",
        lambda s: s["analysis"].update(metrics=[{"name": "cpu", "max": 1}]),
        "spec.analysis.metrics[0].query",
        "required for kind gauge",
    ),
    (
        "unknown metric kind",
        lambda s: metric(s).update(kind="counter"),
        "spec.analysis.metrics[0].kind",
        "must be one of 'errorRate', 'latency' or 'gauge'",
    ),
    (
        "neither bound nor comparison",
        lambda s: metric(s).update(compare="none"),
        "spec.analysis.metrics[0]",
        "set min, max, or compare: baseline",
    ),
    (
        "min above max",
        lambda s: metric(s).update(min=2, max=1),
        "spec.analysis.metrics[0].min",
        "must be below max (1)",
    ),
    (
        "quantile of one",
        lambda s: metric(s).update(quantile=1),
        "spec.analysis.metrics[0].quantile",
        "must be less than 1",
    ),
    (
        "metric name with spaces",
        lambda s: metric(s).update(name="error rate"),
        "spec.analysis.metrics[0].name",
        "must be lowercase letters, digits, '-', '_' or '.', "
        "starting and ending with a letter or digit",
    ),
    (
        "duplicate metric names",
        lambda s: s["analysis"]["metrics"].append(dict(metric(s))),
        "spec.analysis.metrics[1].name",
        "duplicate of metrics[0]",
    ),
    (
        "unknown judge mode",
        lambda s: s.update(judge={"mode": "oracle"}),
        "spec.judge.mode",
        "must be one of 'rules', 'llm' or 'hybrid'",
    ),
    (
        "hybrid judge without llm",
        lambda s: s.update(judge={"mode": "hybrid"}),
        "spec.judge.llm",
        "required when mode is hybrid",
    ),
    (
        "llm without a model",
        lambda s: s.update(judge={"mode": "llm", "llm": {}}),
        "spec.judge.llm.model",
        "required",
    ),
    (
        "llm timeout not a duration",
        lambda s: s.update(judge={"mode": "llm", "llm": {"model": "m", "timeout": "soon"}}),
        "spec.judge.llm.timeout",
        "must be a duration such as 30s, 2m or 1h30m, got 'soon'",
    ),
    (
        "secret ref without key",
        lambda s: s.update(
            judge={"mode": "llm", "llm": {"model": "m", "apiKeySecretRef": {"name": "n"}}}
        ),
        "spec.judge.llm.apiKeySecretRef.key",
        "required",
    ),
    (
        "hold expiring into proceed",
        lambda s: s.update(onHold={"timeout": "30m", "then": "proceed"}),
        "spec.onHold.then",
        "must be one of 'rollback' or 'pause'",
    ),
    (
        "hold timeout of zero",
        lambda s: s.update(onHold={"timeout": "0s"}),
        "spec.onHold.timeout",
        "must be longer than 0s",
    ),
    (
        "paused not a boolean",
        lambda s: s.update(paused="maybe"),
        "spec.paused",
        "input should be a valid boolean, unable to interpret input",
    ),
]


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [pytest.param(edit, path, message, id=name) for name, edit, path, message in INVALID],
)
def test_invalid_spec_names_the_field_and_the_problem(
    edit: Callable[[Spec], object], path: str, message: str
) -> None:
    errors = validate(changed(edit))

    assert FieldError(path, message) in errors, [str(e) for e in errors]


def test_every_problem_is_reported_not_only_the_first() -> None:
    spec = changed(lambda s: s["analysis"].update(interval="x", alpha=2, tolerance=-1))

    paths = {error.path for error in validate(spec)}

    assert paths == {"spec.analysis.interval", "spec.analysis.alpha", "spec.analysis.tolerance"}


def test_a_shape_error_in_one_section_does_not_hide_rule_errors_in_another() -> None:
    spec = changed(
        lambda s: s.update(
            judge={"mode": "oracle"},
            traffic={"slices": [10, 5, 100]},
            template={"image": "a", "podTemplatePatch": {}},
        )
    )

    assert [str(error) for error in validate(spec)] == [
        "spec.judge.mode: must be one of 'rules', 'llm' or 'hybrid'",
        "spec.template: set exactly one of image or podTemplatePatch",
        "spec.traffic.slices[1]: must be greater than 10",
    ]


def test_parse_spec_raises_one_error_listing_every_field() -> None:
    spec = changed(lambda s: s.update(traffic={"slices": [50, 40, 90]}))

    with pytest.raises(SpecError) as raised:
        parse_spec(spec)

    assert str(raised.value).splitlines() == [
        "spec.traffic.slices[1]: must be greater than 50",
        "spec.traffic.slices[2]: the last slice must be 100",
    ]
    assert len(raised.value.errors) == 2


def test_a_spec_that_is_not_an_object_is_reported_at_the_root() -> None:
    assert validate(["not", "a", "spec"]) == [FieldError("spec", "must be an object")]


def test_parse_spec_returns_the_model_for_a_valid_spec() -> None:
    parsed = parse_spec(copy.deepcopy(minimal_spec()))

    assert isinstance(parsed, AIRolloutSpec)
    assert parsed.analysis.metrics[0].error_query == "e"
