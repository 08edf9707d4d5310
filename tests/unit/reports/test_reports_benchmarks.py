"""pytest-benchmark and plain-samples reports read into the benchmarks signal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airollout.adapters.reports.benchmark_report import read_benchmarks, read_measurements
from airollout.adapters.reports.common import ReportError
from airollout.core.promotion.benchmark_test import Summary

pytestmark = pytest.mark.unit
DATA = Path(__file__).parent / "data"
BUILD = DATA / "pytest_benchmark_build.json"
BASELINE = DATA / "pytest_benchmark_baseline.json"
RENDER = "tests/test_perf.py::test_render"


def test_the_saved_rounds_find_the_slow_benchmark_and_spare_the_one_with_an_outlier() -> None:
    reading = read_benchmarks(BUILD, BASELINE, tolerance=0.05)
    signal = reading.signals["benchmarks"]
    assert signal["regressions"] == 1
    assert signal["names"] == [RENDER]
    assert signal["worst_ratio"] == pytest.approx(1.3, abs=0.03)
    # test_parse has one round three times as slow: its mean rose, its rounds did not
    parse = read_measurements(BUILD)["tests/test_perf.py::test_parse"]
    assert isinstance(parse, tuple)
    assert max(parse) > 2.5 * min(parse)
    assert any(
        "new in this build, not tested: tests/test_perf.py::test_new" in n for n in reading.notes
    )
    assert any("missing from this build: tests/test_perf.py::test_old" in n for n in reading.notes)


def test_a_wide_tolerance_accepts_the_slowdown() -> None:
    signal = read_benchmarks(BUILD, BASELINE, tolerance=0.5).signals["benchmarks"]
    assert signal["regressions"] == 0
    assert signal["worst_ratio"] > 1.25  # the ratio is still shown


def test_without_saved_rounds_the_statistics_are_used() -> None:
    stats_only = read_measurements(DATA / "pytest_benchmark_stats_only.json")
    assert all(isinstance(value, Summary) for value in stats_only.values())
    signal = read_benchmarks(DATA / "pytest_benchmark_stats_only.json", BASELINE, 0.05)
    assert signal.signals["benchmarks"]["names"] == [RENDER]


def test_the_plain_samples_format_compares_against_pytest_benchmark() -> None:
    reading = read_benchmarks(DATA / "plain_samples.json", BASELINE, tolerance=0.05)
    assert reading.signals["benchmarks"]["regressions"] == 0
    assert reading.signals["benchmarks"]["worst_ratio"] == pytest.approx(1.02, abs=0.005)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"benchmarks": 3}, "no `benchmarks` list or object"),
        ([1, 2], "its JSON is not an object"),
        ({"benchmarks": [{"stats": {}}]}, r"benchmarks\[0\] has no fullname or name"),
        ({"benchmarks": [{"name": "a", "stats": {"mean": 1}}]}, r"stats.stddev is missing"),
        ({"benchmarks": {"a": ["fast"]}}, "benchmarks.a must be a list of times"),
        ({"benchmarks": {"other": [1.0, 1.0, 1.0]}}, "has no benchmark that"),
        ({"benchmarks": {RENDER: [0.01, 0.01]}}, "the build has 2 round"),
    ],
)
def test_a_bad_benchmark_report_is_an_error_naming_it(
    tmp_path: Path, document: object, problem: str
) -> None:
    report = tmp_path / "bench.json"
    report.write_text(json.dumps(document))
    with pytest.raises(ReportError, match=problem) as raised:
        read_benchmarks(report, BASELINE, 0.05)
    assert str(raised.value).startswith(str(report))
