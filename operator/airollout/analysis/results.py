"""Building the per-window result objects on the hot path, about twice as fast as their
constructors.

A frozen dataclass's generated `__init__` stores each field through `object.__setattr__`,
looked up anew for every field; a decision builds several results per metric, and that
lookup was a measurable share of a decision. These builders write the same slots through
their descriptors directly, so they return the very same types, equal and hashable as the
constructors' results. Import fails if a field is added, renamed or reordered, so the
builders cannot silently leave a slot unset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from airollout.analysis.types import MetricKind, MetricResult, Outcome, TestResult

_TEST_RESULT_FIELDS = ("test", "outcome", "statistic", "threshold", "evidence", "message")
_METRIC_RESULT_FIELDS = (
    "name",
    "kind",
    "canary_value",
    "stable_value",
    "canary_n",
    "stable_n",
    "bound",
    "comparison",
    "extra",
    "stable_bound",
)


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], ...]:
    if tuple(field.name for field in fields(cls)) != names:
        raise TypeError(f"{cls.__name__}'s fields changed: update airollout.analysis.results")
    return tuple(vars(cls)[name].__set__ for name in names)


_set_test, _set_outcome, _set_statistic, _set_threshold, _set_evidence, _set_message = (
    _slot_setters(TestResult, _TEST_RESULT_FIELDS)
)
(
    _set_name,
    _set_kind,
    _set_canary_value,
    _set_stable_value,
    _set_canary_n,
    _set_stable_n,
    _set_bound,
    _set_comparison,
    _set_extra,
    _set_stable_bound,
) = _slot_setters(MetricResult, _METRIC_RESULT_FIELDS)


def new_test_result(
    test: str,
    outcome: Outcome,
    statistic: float | None,
    threshold: float | None,
    evidence: float | None,
    message: str,
) -> TestResult:
    """The same as `TestResult(test, outcome, statistic, threshold, evidence, message)`."""
    result = object.__new__(TestResult)
    _set_test(result, test)
    _set_outcome(result, outcome)
    _set_statistic(result, statistic)
    _set_threshold(result, threshold)
    _set_evidence(result, evidence)
    _set_message(result, message)
    return result


def new_metric_result(
    name: str,
    kind: MetricKind,
    values: tuple[float | None, float | None],
    sizes: tuple[float, float],
    tests: tuple[TestResult | None, TestResult | None, TestResult | None],
) -> MetricResult:
    """A `MetricResult` with no extra values: (canary, stable) values and sizes, and the
    tests (canary bound, comparison, stable bound)."""
    result = object.__new__(MetricResult)
    _set_name(result, name)
    _set_kind(result, kind)
    _set_canary_value(result, values[0])
    _set_stable_value(result, values[1])
    _set_canary_n(result, sizes[0])
    _set_stable_n(result, sizes[1])
    _set_bound(result, tests[0])
    _set_comparison(result, tests[1])
    _set_extra(result, {})
    _set_stable_bound(result, tests[2])
    return result
