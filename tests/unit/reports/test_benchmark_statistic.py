"""The benchmark regression test: noise and outliers are not regressions, slow-downs are."""

from __future__ import annotations

import random

import pytest

from airollout.core.promotion.benchmark_test import (
    BenchmarkError,
    Comparison,
    Summary,
    compare,
    judge,
)

pytestmark = pytest.mark.unit


def _rounds(seed: int, mean: float, spread: float, n: int = 15) -> tuple[float, ...]:
    generator = random.Random(seed)
    return tuple(generator.gauss(mean, spread) for _ in range(n))


def test_a_slowdown_beyond_the_tolerance_regresses() -> None:
    baseline = _rounds(1, 1.0, 0.02)
    [verdict] = judge([compare("render", _rounds(2, 1.2, 0.02), baseline, tolerance=0.05)])
    assert verdict.regressed
    assert verdict.method == "mann-whitney"
    assert verdict.ratio == pytest.approx(1.2, abs=0.03)


def test_a_slowdown_within_the_tolerance_does_not() -> None:
    baseline = _rounds(1, 1.0, 0.02)
    [verdict] = judge([compare("render", _rounds(2, 1.03, 0.02), baseline, tolerance=0.05)])
    assert not verdict.regressed
    [strict] = judge([compare("render", _rounds(2, 1.03, 0.02), baseline, tolerance=0.0)])
    assert strict.regressed


def test_one_slow_round_is_not_a_regression_though_it_moves_the_mean() -> None:
    build = list(_rounds(2, 1.0, 0.02))
    build[4] = 5.0  # a GC pause: the mean rises by a quarter
    comparison = compare("parse", tuple(build), _rounds(1, 1.0, 0.02))
    assert sum(build) / len(build) > 1.2
    assert comparison.p_value > 0.05
    assert comparison.ratio == pytest.approx(1.0, abs=0.03)


def test_summary_statistics_use_welch_and_agree_on_a_clear_slowdown() -> None:
    slow, base = _rounds(2, 1.3, 0.02), _rounds(1, 1.0, 0.02)
    comparison = compare("render", Summary.of(slow), Summary.of(base))
    assert comparison.method == "welch-t"
    assert comparison.p_value < 1e-6
    same = compare("render", Summary.of(_rounds(3, 1.0, 0.02)), Summary.of(base))
    assert same.p_value > 0.05


def test_no_spread_on_either_side_compares_the_means() -> None:
    flat = Summary(mean=1.0, stddev=0.0, rounds=5, median=1.0)
    slower = Summary(mean=1.2, stddev=0.0, rounds=5, median=1.2)
    assert compare("x", slower, flat).p_value == 0.0
    assert compare("x", flat, flat).p_value == 1.0


def test_holm_keeps_one_borderline_result_among_many_from_counting() -> None:
    comparisons = [Comparison(f"b{i}", 1.0, 0.5, "mann-whitney") for i in range(19)]
    borderline = Comparison("edge", 1.1, 0.02, "mann-whitney")
    clear = Comparison("clear", 1.5, 1e-6, "mann-whitney")
    judged = {c.name: c.regressed for c in judge([*comparisons, borderline, clear])}
    assert judged["clear"]
    assert not judged["edge"]  # 0.02 > 0.05 / 20: alone it would count
    assert judge([borderline])[0].regressed


def test_too_few_rounds_is_an_error_naming_the_benchmark_not_a_pass() -> None:
    with pytest.raises(BenchmarkError, match="benchmark 'render': the build has 2 round"):
        compare("render", (1.0, 1.1), _rounds(1, 1.0, 0.02))


def test_a_negative_tolerance_is_an_error() -> None:
    with pytest.raises(BenchmarkError, match="tolerance"):
        compare("render", _rounds(1, 1.0, 0.02), _rounds(2, 1.0, 0.02), tolerance=-0.1)
