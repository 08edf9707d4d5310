"""A service's history from outcome lines, and how inputs combine and fail."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from airollout.adapters.reports.collect import Inputs, collect
from airollout.adapters.reports.common import ReportError
from airollout.adapters.reports.history import read_history
from airollout.adapters.reports.production import ProductionQueries

pytestmark = pytest.mark.unit
DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 1, 5, 10, tzinfo=UTC)


def _lines(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "outcomes.jsonl"
    path.write_text("\n".join(json.dumps(record) for record in records) + "\n\n")
    return path


def test_history_counts_this_services_labelled_rollouts_and_its_bad_artifacts(
    tmp_path: Path,
) -> None:
    path = _lines(
        tmp_path,
        {"service": "checkout", "outcome": "healthy"},
        {"service": "checkout", "outcome": "regressed"},
        {"target": "checkout", "outcome": "rolled-back-bad"},
        {"service": "checkout", "outcome": "false-rollback"},
        {"service": "checkout", "outcome": None},  # observation not over: not counted
        {"service": "search", "outcome": "incident"},
    )
    reading = read_history(path, "checkout")
    assert reading.signals == {"history": {"rollouts": 4, "incidents": 2}}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "outcomes.jsonl:2: is not a JSON object"),
        ('{"outcome": "healthy"}', "outcomes.jsonl:2: has no `service`"),
        ('{"service": "checkout", "outcome": "fine"}', "outcome 'fine' is not one of"),
    ],
)
def test_a_bad_history_line_is_named_by_file_and_line(
    tmp_path: Path, line: str, problem: str
) -> None:
    path = tmp_path / "outcomes.jsonl"
    path.write_text('{"service": "checkout", "outcome": "healthy"}\n' + line + "\n")
    with pytest.raises(ReportError, match=problem):
        read_history(path, "checkout")


def test_reports_replace_the_signals_files_values_and_keep_the_rest(tmp_path: Path) -> None:
    signals = tmp_path / "signals.json"
    signals.write_text(json.dumps({"tests": {"total": 1, "failed": 1}, "coverage_delta": -3.0}))
    reading = collect(
        Inputs(signals_file=signals, junit=[DATA / "junit_pytest.xml"], change_lines=40), NOW
    )
    assert reading.signals == {
        "tests": {"total": 4, "failed": 0, "skipped": 1},
        "coverage_delta": -3.0,
        "change": {"lines": 40},
    }


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        (Inputs(coverage=DATA / "coverage_py.json"), "--baseline-coverage is missing"),
        (Inputs(baseline_sbom=DATA / "sbom_build.cdx.json"), "--sbom is missing"),
        (Inputs(baseline_security=(DATA / "trivy.json",)), "--baseline-security: needs"),
        (Inputs(history=DATA / "x.jsonl"), "--history and --service: give both"),
        (
            Inputs(
                prometheus="http://127.0.0.1:9",
                production=ProductionQueries(alerts_selector="", max_latency=1),
            ),
            "--max-latency needs --latency-query",
        ),
        (
            Inputs(signals_file=DATA / "coverage_py.json"),
            "coverage_py.json: signals.files: unknown",
        ),
    ],
)
def test_half_given_or_wrong_inputs_are_errors_naming_the_flag_or_file(
    inputs: Inputs, problem: str
) -> None:
    with pytest.raises(ReportError, match=problem):
        collect(inputs, NOW)
