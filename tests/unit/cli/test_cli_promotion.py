"""`airollout promotion score` end to end on real-format reports: tiers, outputs, exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from airollout.cli.main import main
from airollout.cli.promotion_report import MAX_LINE_BYTES, Result, compact_json
from airollout.core.feedback.policy import Policy
from airollout.core.promotion.model import PromotionModel, score
from airollout.core.promotion.signals import signals_from_json
from airollout.core.promotion.tiers import Decision, Thresholds

pytestmark = pytest.mark.unit
DATA = Path(__file__).parents[1] / "reports" / "data"
CLEAN = [
    "--junit", str(DATA / "junit_pytest.xml"),
    "--coverage", str(DATA / "cobertura.xml"),
    "--baseline-coverage", str(DATA / "coverage_py.json"),
    "--sbom", str(DATA / "sbom_build.cdx.json"),
    "--baseline-sbom", str(DATA / "sbom_build.cdx.json"),
    "--change-files", "2", "--change-lines", "30", "--risk-tier", "low",
]  # fmt: skip
FAILING = [
    "--junit", str(DATA / "junit_go_failures.xml"),
    "--benchmarks", str(DATA / "pytest_benchmark_build.json"),
    "--baseline-benchmarks", str(DATA / "pytest_benchmark_baseline.json"),
    "--security", str(DATA / "grype.json"),
    "--security", str(DATA / "trivy.json"),
    "--baseline-security", str(DATA / "trivy_baseline.json"),
]  # fmt: skip


def _json_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["promotion", "score", *argv, "--json"])
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one line, for a termination message
    return code, json.loads(out)


def test_clean_reports_auto_promote_with_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _json_run(capsys, *CLEAN)
    assert code == 0
    assert report["decision"] == "auto-promote"
    assert isinstance(report["score"], float)
    assert report["score"] >= 0.92
    assert report["blocks"] == []
    assert report["model"] == "default-v1"
    assert report["signals"] == {
        "tests": {"total": 4, "failed": 0, "skipped": 1},
        "coverage_delta": pytest.approx(2.4),
        "dependencies": {"added": 0, "updated": 0, "removed": 0, "licence_changes": 0},
        "change": {"files": 2, "lines": 30, "risk_tier": "low"},
    }
    contributions = report["contributions"]
    assert isinstance(contributions, list)
    assert contributions[0]["feature"] == "intercept"
    assert {c["feature"] for c in contributions} >= {"failed_share", "change_size"}


def test_failures_and_a_fixable_critical_block_with_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "termination-log"
    code = main(["promotion", "score", *FAILING, "--json", "--termination-log", str(log)])
    line = capsys.readouterr().out.strip()
    assert code == 1
    report = json.loads(line)
    assert report["decision"] == "block"
    assert report["blocks"] == [
        "2 of 3 tests failed",
        "1 critical vulnerability with a fix available",
    ]
    assert report["signals"]["benchmarks"]["regressions"] == 1
    assert report["signals"]["vulnerabilities"]["new"] == 3  # not in the Trivy baseline
    assert log.read_text() == line


def test_a_score_between_the_thresholds_asks_for_review_with_exit_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, report = _json_run(capsys, *CLEAN, "--thresholds", "0.9999,0.5")
    assert (code, report["decision"]) == (0, "manual-review")
    code, report = _json_run(capsys, *CLEAN, "--thresholds", "0.9999,0.9998")
    assert (code, report["decision"]) == (1, "block")  # low score, no hard block


def test_github_mode_writes_outputs_and_a_summary_with_each_contribution(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs, summary = tmp_path / "output", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["promotion", "score", *FAILING, "--github"]) == 1
    assert "Promotion score" in capsys.readouterr().out
    lines = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert lines["decision"] == "block"
    assert 0.0 <= float(lines["score"]) < 0.75
    markdown = summary.read_text()
    assert "**block**" in markdown
    assert "- 2 of 3 tests failed" in markdown
    assert "| failed_share | tests |" in markdown
    assert "| benchmark_regressions | benchmarks | 1.000 |" in markdown
    assert "read as Grype JSON" in markdown


def test_a_policy_file_brings_its_model_and_thresholds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = Policy(
        version=3,
        model=PromotionModel(version="fitted-v3", intercept=1.0, weights={}, scalings={}),
        thresholds=Thresholds(auto_promote=0.7, manual_review=0.6),
        selection_escalations=(),
        changes=("refit on 40 outcomes",),
        created_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy.to_json()))
    code, report = _json_run(capsys, *CLEAN, "--model", str(path))
    assert report["model"] == "fitted-v3"
    assert report["score"] == pytest.approx(0.7311, abs=1e-4)  # sigmoid(1.0)
    assert (code, report["decision"]) == (0, "auto-promote")
    path.write_text(json.dumps({**policy.to_json(), "created_at": "yesterday"}))
    assert main(["promotion", "score", "--model", str(path)]) == 2
    assert "policy.json: policy.created_at: must be an ISO 8601 time" in capsys.readouterr().err


def test_block_rules_from_a_file_stand_whatever_the_score(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "blocks.json"
    rules.write_text(json.dumps({"risk_tiers": ["low"], "max_failed_tests": 0}))
    code, report = _json_run(capsys, *CLEAN, "--blocks", str(rules))
    assert report["score"] >= 0.92
    assert (code, report["decision"], report["blocks"]) == (
        1,
        "block",
        ["the change's risk tier is low"],
    )
    rules.write_text(json.dumps({"max_failed": 0}))
    assert main(["promotion", "score", *CLEAN, "--blocks", str(rules)]) == 2
    assert "blocks.json: blocks.max_failed: unknown rule" in capsys.readouterr().err


def test_signals_from_a_pipeline_are_scored_like_reports(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    signals = tmp_path / "signals.json"
    signals.write_text(json.dumps({"production": {"error_rate": 0.0, "alerts_firing": 3}}))
    code, report = _json_run(capsys, "--signals", str(signals))
    assert report["signals"] == {"production": {"error_rate": 0.0, "alerts_firing": 3}}
    assert report["decision"] != "auto-promote"
    assert code == (1 if report["decision"] == "block" else 0)


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--junit", str(DATA / "not_junit.xml")], "not_junit.xml: is XML but not JUnit"),
        (["--security", str(DATA / "spdx.json")], "spdx.json: not a SARIF 2.1"),
        (["--coverage", str(DATA / "coverage_py.json")], "--baseline-coverage is missing"),
        (["--signals", str(DATA / "grype.json")], "grype.json: signals.descriptor: unknown signal"),
        (["--error-rate-query", "up"], "need --prometheus"),
        ([], "no inputs: give at least one report"),
        (["--model", str(DATA / "grype.json")], "grype.json: model.version"),
    ],
)
def test_bad_input_exits_2_naming_the_file_or_flag(
    capsys: pytest.CaptureFixture[str], argv: list[str], problem: str
) -> None:
    assert main(["promotion", "score", *argv, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert problem in captured.err


def test_the_json_line_fits_a_termination_message_keeping_the_decision() -> None:
    signals = {"benchmarks": {"regressions": 90, "names": [f"bench_{i:03}" * 4 for i in range(90)]}}
    parsed = signals_from_json(signals)
    result = Result(
        score=score(parsed),
        decision=Decision.BLOCK,
        blocks=tuple(f"reason {i} " * 20 for i in range(20)),
        signals=signals,
        model="default-v1",
        thresholds=Thresholds(),
    )
    line = compact_json(result)
    assert len(line.encode()) <= MAX_LINE_BYTES
    report = json.loads(line)
    assert report["decision"] == "block"
    assert report["blocks"][-1] == "and 17 more"
    assert "names" not in report["signals"]["benchmarks"]


def test_the_tests_jobs_totals_and_plan_are_read_from_their_env_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    totals = json.dumps({"passed": 10, "failed": 1, "skipped": 0, "failing": ["t::a"]})
    plan = json.dumps({"risk_tier": "medium", "tests": []})
    code, report = _json_run(capsys, "--test-results", totals, "--test-plan", plan)
    assert report["signals"] == {
        "tests": {"total": 11, "failed": 1, "skipped": 0},
        "change": {"risk_tier": "medium"},
    }
    assert (code, report["blocks"]) == (1, ["1 of 11 tests failed"])
