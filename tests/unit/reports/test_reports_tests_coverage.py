"""JUnit and coverage reports read into the tests and coverage_delta signals."""

from __future__ import annotations

from pathlib import Path

import pytest

from airollout.adapters.reports.common import ReportError
from airollout.adapters.reports.coverage_report import read_coverage_delta, read_percent
from airollout.adapters.reports.junit_results import read_tests

pytestmark = pytest.mark.unit
DATA = Path(__file__).parent / "data"


def test_junit_files_of_several_tools_add_up_errors_counting_as_failures() -> None:
    reading = read_tests([DATA / "junit_pytest.xml", DATA / "junit_go_failures.xml"])
    assert reading.signals == {"tests": {"total": 7, "failed": 2, "skipped": 1}}
    assert "pay::TestRefund, pay::TestTimeout" in reading.notes[1]


def test_a_clean_junit_run_has_no_failure_note() -> None:
    reading = read_tests([DATA / "junit_pytest.xml"])
    assert reading.signals == {"tests": {"total": 4, "failed": 0, "skipped": 1}}
    assert len(reading.notes) == 1


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("not_junit.xml", "is XML but not JUnit"),
        ("truncated.xml", "not a readable JUnit XML file"),
        ("absent.xml", "no such file"),
    ],
)
def test_a_bad_junit_file_is_named_with_its_problem(name: str, problem: str) -> None:
    with pytest.raises(ReportError, match=problem) as raised:
        read_tests([DATA / "junit_pytest.xml", DATA / name])
    assert str(raised.value).startswith(str(DATA / name))


def test_coverage_py_json_and_cobertura_give_percent_and_their_format() -> None:
    assert read_percent(DATA / "coverage_py.json") == (83.2, "coverage.py JSON")
    assert read_percent(DATA / "cobertura.xml") == (pytest.approx(85.6), "Cobertura XML")


def test_the_delta_is_build_minus_baseline_in_points() -> None:
    gain = read_coverage_delta(DATA / "cobertura.xml", DATA / "coverage_py.json")
    assert gain.signals == {"coverage_delta": pytest.approx(2.4)}
    drop = read_coverage_delta(DATA / "coverage_py.json", DATA / "cobertura.xml")
    assert drop.signals == {"coverage_delta": pytest.approx(-2.4)}
    assert "-2.40 points" in drop.notes[0]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"meta": {}, "files": {}}', "neither coverage.py JSON"),
        ('{"totals": {"percent_covered": "high"}}', "percent_covered is missing or not a number"),
        ('{"totals": {"percent_covered": 140}}', "not between 0 and 100"),
        ("<report/>", r"not Cobertura \(its root is <report>\)"),
        ('<coverage line-rate="x"/>', "line-rate 'x' is not a number"),
        ("<coverage", "not well-formed XML"),
        ("{", "not valid JSON"),
    ],
)
def test_a_bad_coverage_report_is_an_error_naming_it(
    tmp_path: Path, content: str, problem: str
) -> None:
    report = tmp_path / "coverage.out"
    report.write_text(content)
    with pytest.raises(ReportError, match=problem) as raised:
        read_coverage_delta(report, DATA / "coverage_py.json")
    assert str(raised.value).startswith(str(report))
