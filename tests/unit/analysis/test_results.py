"""The fast result builders must give exactly what the dataclass constructors give."""

from __future__ import annotations

import dataclasses

import pytest

from airollout.analysis import results
from airollout.analysis.types import MetricKind, MetricResult, Outcome, TestResult

pytestmark = pytest.mark.unit


def test_a_built_test_result_equals_and_hashes_as_the_constructed_one() -> None:
    args = ("bound-anytime", Outcome.FAIL, 0.03, 0.005, 250.0, "breached")
    built, constructed = results.new_test_result(*args), TestResult(*args)
    assert type(built) is TestResult
    assert built == constructed
    assert hash(built) == hash(constructed)
    assert dataclasses.astuple(built) == args


def test_a_built_test_result_stays_frozen() -> None:
    built = results.new_test_result("t", Outcome.PASS, None, None, None, "ok")
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.outcome = Outcome.FAIL  # type: ignore[misc]


def test_a_built_metric_result_equals_the_constructed_one_with_its_own_extra() -> None:
    bound = TestResult("bound-anytime", Outcome.PASS, 0.001, 0.005, 2.0, "within")
    compare = TestResult("msprt-rate-ratio", Outcome.NOT_YET, 1.1, 1.1, 3.0, "not yet")
    built = results.new_metric_result(
        "errors", MetricKind.ERROR_RATE, (0.001, None), (1000.0, 0.0), (bound, compare, None)
    )
    constructed = MetricResult(
        name="errors",
        kind=MetricKind.ERROR_RATE,
        canary_value=0.001,
        stable_value=None,
        canary_n=1000.0,
        stable_n=0.0,
        bound=bound,
        comparison=compare,
        stable_bound=None,
    )
    assert built == constructed
    other = results.new_metric_result(
        "errors", MetricKind.ERROR_RATE, (0.001, None), (1000.0, 0.0), (bound, compare, None)
    )
    assert built.extra is not other.extra  # each result owns its mapping, as the default does


def test_a_changed_field_list_is_refused_rather_than_left_unset() -> None:
    with pytest.raises(TypeError, match="fields changed"):
        results._slot_setters(TestResult, ("test", "outcome"))
