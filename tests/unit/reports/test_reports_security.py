"""Security reports of four scanners, told apart by content: the vulnerabilities signal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airollout.adapters.reports.common import ReportError
from airollout.adapters.reports.security_report import Finding, read_findings, read_security

pytestmark = pytest.mark.unit
DATA = Path(__file__).parent / "data"


def test_sarif_severity_comes_from_the_rules_security_severity_then_the_level() -> None:
    name, findings = read_findings(DATA / "sarif_codeql.sarif")
    assert name == "SARIF 2.1"
    assert findings == [
        Finding("py/sql-injection", "checkout/db.py", "critical", fixable=True),
        Finding("py/clear-text-logging-sensitive-data", "checkout/auth.py", "high", False),
        Finding("py/unused-import", "checkout/cart.py", "low", False),
    ]


def test_grype_fix_state_says_whether_a_fix_exists() -> None:
    name, findings = read_findings(DATA / "grype.json")
    assert name == "Grype JSON"
    assert [(f.id, f.severity, f.fixable) for f in findings] == [
        ("CVE-2024-6119", "critical", True),
        ("CVE-2023-45853", "critical", False),
        ("GHSA-9wx4-h78v-vm56", "medium", True),
        ("CVE-2024-2511", "low", False),
    ]


def test_trivy_fixed_version_says_whether_a_fix_exists() -> None:
    name, findings = read_findings(DATA / "trivy.json")
    assert name == "Trivy JSON"
    assert findings == [
        Finding("CVE-2024-6119", "openssl@3.0.13-1~deb12u1", "high", True),
        Finding("CVE-2023-45853", "zlib1g@1:1.2.13.dfsg-1", "critical", False),
    ]


def test_osv_scanner_counts_a_group_of_aliases_once() -> None:
    name, findings = read_findings(DATA / "osv_scanner.json")
    assert name == "OSV-Scanner JSON"
    assert findings == [
        Finding("GHSA-h5c8-rqwp-cp95", "jinja2@3.1.2", "medium", True),
        Finding("GHSA-8q59-q68h-6hv4", "pyyaml@5.3", "critical", True),
    ]


def test_counts_by_severity_with_new_findings_against_the_baseline() -> None:
    reading = read_security([DATA / "trivy.json"], [DATA / "trivy_baseline.json"])
    assert reading.signals == {
        "vulnerabilities": {
            "critical": 1,
            "high": 1,
            "medium": 0,
            "low": 0,
            "fixable_critical": 0,
            "new": 1,
            "new_critical": 0,
        }
    }
    assert "read as Trivy JSON" in reading.notes[0]
    assert "CVE-2024-6119 (high, openssl" in reading.notes[-1]


def test_one_finding_from_two_scanners_counts_once_at_the_graver_rating() -> None:
    signal = read_security([DATA / "trivy.json", DATA / "grype.json"], []).signals
    vulnerabilities = signal["vulnerabilities"]
    # CVE-2024-6119 in openssl: HIGH for Trivy, Critical for Grype; zlib's in both
    assert vulnerabilities["critical"] == 2
    assert vulnerabilities["high"] == 0
    assert vulnerabilities["fixable_critical"] == 1
    assert "new" not in vulnerabilities  # no baseline, no claim about what is new


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("spdx.json", r"not a SARIF 2.1, Grype JSON, Trivy JSON or OSV-Scanner JSON report"),
        ("grype_malformed.json", r"a malformed Grype JSON report \(missing 'vulnerability'\)"),
        ("weird.json", r"not a SARIF 2.1.*top-level keys: matches, runs, version"),
        ("absent.json", "cannot be read"),
        ("cobertura.xml", "not valid JSON"),
    ],
)
def test_an_unknown_or_broken_report_is_an_error_naming_it(name: str, problem: str) -> None:
    with pytest.raises(ReportError, match=problem) as raised:
        read_security([DATA / "trivy.json", DATA / name], [])
    assert str(raised.value).startswith(str(DATA / name))


def test_a_sarif_result_without_rule_metadata_falls_back_to_its_level(tmp_path: Path) -> None:
    report = tmp_path / "semgrep.sarif"
    results = [
        {"ruleId": "r1", "level": "error", "message": {"text": "x"}},
        {"ruleId": "r2", "level": "warning", "message": {"text": "y"}},
    ]
    run = {"tool": {"driver": {"name": "semgrep"}}, "results": results}
    report.write_text(json.dumps({"version": "2.1.0", "runs": [run]}))
    _, findings = read_findings(report)
    assert [f.severity for f in findings] == ["high", "medium"]
