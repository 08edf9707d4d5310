"""Query templates: variables filled in, unknown ones named, windows as PromQL ranges."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from airollout.adapters.metrics.queries import (
    TemplateError,
    check,
    prometheus_duration,
    query_errors,
    render,
)
from airollout.core.resource.spec import AIRolloutSpec, MetricSpec

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[3]

VARIABLES = {
    "namespace": "shop",
    "workload": "checkout-canary",
    "version": "canary",
    "window": "60s",
    "rollout": "checkout-4f2a1c",
}


def test_every_variable_is_replaced_by_its_value() -> None:
    query = (
        'sum(increase(x{namespace="{{ namespace }}",deployment="{{ workload }}",'
        'v="{{ version }}",r="{{ rollout }}"}[{{ window }}]))'
    )
    assert render(query, VARIABLES) == (
        'sum(increase(x{namespace="shop",deployment="checkout-canary",'
        'v="canary",r="checkout-4f2a1c"}[60s]))'
    )


@pytest.mark.parametrize("placeholder", ["{{workload}}", "{{ workload }}", "{{  workload\n}}"])
def test_whitespace_inside_the_braces_is_optional(placeholder: str) -> None:
    assert render(f"up{{d='{placeholder}'}}", VARIABLES) == "up{d='checkout-canary'}"


def test_a_variable_used_twice_is_replaced_both_times() -> None:
    assert render("{{window}} {{ window }}", VARIABLES) == "60s 60s"


def test_a_query_without_variables_is_unchanged() -> None:
    assert render('up{job="x"}', VARIABLES) == 'up{job="x"}'


def test_an_unknown_variable_raises_an_error_naming_it() -> None:
    with pytest.raises(TemplateError, match="'deployment'") as raised:
        render("up{d='{{ deployment }}'}", VARIABLES)
    assert raised.value.names == ["deployment"]


def test_a_known_variable_without_a_value_is_an_error_that_says_so() -> None:
    with pytest.raises(TemplateError, match="'rollout' has no value") as raised:
        render("{{ rollout }}", {"window": "60s"})
    assert raised.value.names == ["rollout"]


def test_check_lists_each_unknown_name_once_in_order_of_use() -> None:
    query = "{{ b }} {{ workload }} {{ a }} {{b}} {{ window }}"
    assert check(query) == ["b", "a"]


def test_check_finds_nothing_wrong_with_known_variables() -> None:
    assert check("{{ namespace }}{{workload}}{{ version }}{{ window }}{{ rollout }}") == []


def test_a_malformed_placeholder_is_reported_rather_than_sent_to_prometheus() -> None:
    assert check("{{ workload | quote }}") == ["workload | quote"]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(60.0, "60s"), (120.0, "120s"), (1.5, "1500ms"), (0.0004, "1ms"), (0.0, "1ms")],
)
def test_windows_become_whole_seconds_or_milliseconds(seconds: float, expected: str) -> None:
    assert prometheus_duration(seconds) == expected


def test_query_errors_name_the_field_of_each_bad_query() -> None:
    good = MetricSpec(name="mem", query="avg(m{pod=~'{{ workload }}-.*'})", max=1.0)
    bad = MetricSpec(
        name="errors",
        kind="errorRate",
        error_query="sum(e{d='{{ deploy }}'})",
        total_query="sum(t{d='{{ workload }}'})",
        max=0.01,
    )
    errors = list(query_errors([good, bad]))
    assert [error.path for error in errors] == ["spec.analysis.metrics[1].errorQuery"]
    assert "'deploy'" in errors[0].message


def test_the_example_rollout_uses_only_known_variables() -> None:
    manifest = yaml.safe_load((REPO_ROOT / "examples" / "checkout-rollout.yaml").read_text())
    spec = AIRolloutSpec.model_validate(manifest["spec"])
    assert spec.analysis.metrics
    assert list(query_errors(spec.analysis.metrics)) == []
