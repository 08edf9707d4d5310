import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from airollout.core.resource.durations import DURATION_PATTERN
from airollout.core.resource.spec import AIRolloutSpec, MetricSpec
from airollout.core.resource.validation import FieldError, validate

pytestmark = pytest.mark.unit

names = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True)
texts = st.text(min_size=1, max_size=20)
durations = st.from_regex(DURATION_PATTERN, fullmatch=True).filter(lambda d: len(d) >= 2)
bounds = st.none() | st.floats(allow_nan=False, allow_infinity=False, width=32)


def optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts where every key may be absent, so defaults are exercised too."""
    return st.fixed_dictionaries({}, optional=fields)


metrics = optional(
    kind=st.sampled_from(["errorRate", "latency", "gauge"]),
    query=texts,
    errorQuery=texts,
    totalQuery=texts,
    bucketsQuery=texts,
    quantile=st.floats(min_value=0.5, max_value=0.999),
    min=bounds,
    max=bounds,
    compare=st.sampled_from(["baseline", "none"]),
).flatmap(lambda m: names.map(lambda n: {**m, "name": n}))

llm = st.fixed_dictionaries(
    {"model": texts},
    optional={
        "baseURL": st.sampled_from(["http://localhost:8000/v1", "https://api.example/v1"]),
        "apiKeySecretRef": st.fixed_dictionaries({"name": names, "key": names}),
        "timeout": durations,
        "maxRetries": st.integers(0, 10),
    },
)

specs = st.fixed_dictionaries(
    {
        "targetRef": st.fixed_dictionaries(
            {"name": names}, optional={"kind": st.just("Deployment")}
        ),
        "template": st.one_of(
            st.fixed_dictionaries({"image": texts}, optional={"container": names}),
            st.fixed_dictionaries({"podTemplatePatch": st.dictionaries(names, texts, max_size=2)}),
        ),
    },
    optional={
        "revision": texts,
        "traffic": optional(
            router=st.just("replicas"),
            slices=st.lists(st.integers(1, 99), max_size=5, unique=True).map(
                lambda s: [*sorted(s), 100]
            ),
        ),
        "analysis": optional(
            interval=durations,
            warmup=durations,
            prometheus=st.just({"address": "http://prometheus:9090"}),
            metrics=st.lists(metrics, max_size=3, unique_by=lambda m: m["name"]),
            alpha=st.floats(min_value=0.001, max_value=0.2),
            tolerance=st.floats(min_value=0, max_value=2),
        ),
        "judge": optional(mode=st.sampled_from(["rules", "llm", "hybrid"]), llm=llm),
        "onHold": st.fixed_dictionaries(
            {"timeout": durations}, optional={"then": st.sampled_from(["rollback", "pause"])}
        ),
        "paused": st.booleans(),
    },
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(specs)
def test_any_accepted_spec_round_trips_through_json_by_alias(raw: dict[str, Any]) -> None:
    try:
        spec = AIRolloutSpec.model_validate(raw)
    except ValidationError:
        return  # the property is about accepted specs; rejections are tested by path elsewhere

    wire = json.loads(json.dumps(spec.model_dump(mode="json", by_alias=True, exclude_none=True)))
    again = AIRolloutSpec.model_validate(wire)

    assert again == spec
    assert "target_ref" not in wire
    assert "targetRef" in wire
    assert validate(wire) == validate(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150)
@given(
    st.one_of(
        json_values,
        specs.flatmap(
            lambda s: st.dictionaries(st.sampled_from(sorted(s)), json_values, max_size=2).map(
                lambda junk: {**s, **junk}
            )
        ),
    )
)
def test_validate_never_raises_and_every_error_starts_at_spec(raw: Any) -> None:
    errors = validate(raw)

    assert all(isinstance(error, FieldError) for error in errors)
    assert all(str(error).startswith("spec") for error in errors)


def test_metric_kind_defaults_to_gauge_and_compare_to_baseline() -> None:
    metric = MetricSpec.model_validate({"name": "cpu", "query": "q"})

    assert metric.kind.value == "gauge"
    assert metric.compare.value == "baseline"
    assert metric.quantile == 0.99


def test_python_names_and_wire_names_both_populate_the_model() -> None:
    by_wire = AIRolloutSpec.model_validate(
        {"targetRef": {"name": "a"}, "template": {"image": "i"}, "onHold": {"timeout": "5m"}}
    )
    by_python = AIRolloutSpec.model_validate(
        {"target_ref": {"name": "a"}, "template": {"image": "i"}, "on_hold": {"timeout": "5m"}}
    )

    assert by_wire == by_python
    assert by_wire.on_hold is not None
    assert by_wire.on_hold.timeout_seconds == 300.0
