"""The vulnerabilities signal from security scanners' reports, the format told from content.

- SARIF 2.1 (CodeQL, Semgrep, Trivy/Grype `--format sarif`, ...): each `runs[].results[]`;
  severity from the rule's `properties.security-severity` (a CVSS score: >= 9 critical,
  >= 7 high, >= 4 medium, as GitHub code scanning reads it), else from the result's or the
  rule's `level` (error high, warning medium, note low); fix available when the result
  carries `fixes`.
- Grype JSON: `matches[]`, `vulnerability.severity`, fixable when `vulnerability.fix.state`
  is `fixed`.
- Trivy JSON: `Results[].Vulnerabilities[]`, `Severity`, fixable when `FixedVersion` is set.
- OSV-Scanner JSON: `results[].packages[]`, one finding per `groups[]` entry (a vulnerability
  and its aliases); severity from the group's `max_severity` (CVSS) or the advisory's
  `database_specific.severity`; fixable when an affected range has a `fixed` event.

A finding is (vulnerability or rule id, package or file); the same one reported twice (two
scanners, two runs) counts once. "New" means absent from every baseline report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from airollout.adapters.reports.common import Reading, ReportError, json_object

SEVERITIES = ("critical", "high", "medium", "low")
FORMATS = "SARIF 2.1, Grype JSON, Trivy JSON or OSV-Scanner JSON"
SHOWN_NEW = 10
_LEVELS = {"error": "high", "warning": "medium", "note": "low", "none": "low"}
_WORDS = {"critical": "critical", "high": "high", "medium": "medium", "moderate": "medium"}


@dataclasses.dataclass(frozen=True)
class Finding:
    id: str
    package: str  # the package (scanners of dependencies) or the file (SARIF)
    severity: str  # one of SEVERITIES
    fixable: bool


def read_security(reports: Sequence[Path], baselines: Sequence[Path]) -> Reading:
    found, notes = _read_all(reports)
    signal: dict[str, Any] = {level: 0 for level in SEVERITIES if level != "low"}
    for finding in found.values():
        if finding.severity in signal:
            signal[finding.severity] += 1
    signal["fixable_critical"] = sum(f.fixable and f.severity == "critical" for f in found.values())
    signal["low"] = sum(f.severity == "low" for f in found.values())
    counts = ", ".join(f"{signal[level]} {level}" for level in SEVERITIES)
    notes.append(f"vulnerabilities: {counts}; {signal['fixable_critical']} critical fixable")
    if baselines:
        known, _ = _read_all(baselines)
        new = [finding for key, finding in found.items() if key not in known]
        signal["new"] = len(new)
        signal["new_critical"] = sum(f.severity == "critical" for f in new)
        shown = ", ".join(f"{f.id} ({f.severity}, {f.package})" for f in new[:SHOWN_NEW])
        notes.append(
            f"vulnerabilities new against the baseline: {len(new)}{': ' if new else ''}{shown}"
        )
    return Reading({"vulnerabilities": signal}, tuple(notes))


def _read_all(paths: Sequence[Path]) -> tuple[dict[tuple[str, str], Finding], list[str]]:
    found: dict[tuple[str, str], Finding] = {}
    notes = []
    for path in paths:
        name, findings = read_findings(path)
        count = 0
        for finding in findings:
            count += 1
            key = (finding.id, finding.package)
            previous = found.get(key)
            # Two scanners may rate one finding differently: the graver rating stands.
            if previous is None or _rank(finding) < _rank(previous):
                found[key] = finding
        notes.append(f"security: {path} read as {name}, {count} finding(s)")
    return found, notes


def _rank(finding: Finding) -> tuple[int, bool]:
    return SEVERITIES.index(finding.severity), not finding.fixable


def read_findings(path: Path) -> tuple[str, list[Finding]]:
    """The name of the format the report was read as, and its findings."""
    data = json_object(path, FORMATS)
    for name, looks_like, read in _READERS:
        if looks_like(data):
            try:
                return name, list(read(data))
            except (KeyError, TypeError, AttributeError, ValueError) as error:
                raise ReportError(f"{path}: a malformed {name} report ({_why(error)})") from None
    keys = ", ".join(sorted(data)[:8]) or "none"
    raise ReportError(f"{path}: not a {FORMATS} report (its top-level keys: {keys})")


def _why(error: Exception) -> str:
    return f"missing {error}" if isinstance(error, KeyError) else str(error)


def _cvss(score: Any) -> str:
    value = float(score)
    if value >= 9.0:
        return "critical"
    if value >= 7.0:
        return "high"
    return "medium" if value >= 4.0 else "low"


def _word(severity: Any) -> str:
    return _WORDS.get(str(severity).lower(), "low")


def _is_sarif(data: Mapping[str, Any]) -> bool:
    return isinstance(data.get("runs"), list) and (
        str(data.get("version", "")).startswith("2.1") or "sarif" in str(data.get("$schema", ""))
    )


def _sarif(data: Mapping[str, Any]) -> Iterator[Finding]:
    for run in data["runs"]:
        rules = run.get("tool", {}).get("driver", {}).get("rules") or []
        by_id = {rule["id"]: rule for rule in rules if "id" in rule}
        for result in run.get("results") or []:
            rule = _sarif_rule(result, rules, by_id)
            rule_id = result.get("ruleId") or rule.get("id") or "unknown-rule"
            yield Finding(
                rule_id,
                _sarif_location(result),
                _sarif_severity(result, rule),
                bool(result.get("fixes")),
            )


def _sarif_rule(
    result: Mapping[str, Any], rules: list[Any], by_id: Mapping[str, Any]
) -> Mapping[str, Any]:
    index = result.get("ruleIndex", result.get("rule", {}).get("index"))
    if isinstance(index, int) and 0 <= index < len(rules):
        return rules[index]  # type: ignore[no-any-return]
    return by_id.get(result.get("ruleId", ""), {})  # type: ignore[no-any-return]


def _sarif_severity(result: Mapping[str, Any], rule: Mapping[str, Any]) -> str:
    score = (rule.get("properties") or {}).get("security-severity")
    if score is not None:
        return _cvss(score)
    level = result.get("level") or rule.get("defaultConfiguration", {}).get("level") or "warning"
    return _LEVELS.get(level, "medium")


def _sarif_location(result: Mapping[str, Any]) -> str:
    for location in result.get("locations") or []:
        uri = location.get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
        if uri:
            return str(uri)
    return ""


def _is_grype(data: Mapping[str, Any]) -> bool:
    return isinstance(data.get("matches"), list)


def _grype(data: Mapping[str, Any]) -> Iterator[Finding]:
    for match in data["matches"]:
        vulnerability, artifact = match["vulnerability"], match.get("artifact", {})
        package = f"{artifact.get('name', '')}@{artifact.get('version', '')}"
        fixed = (vulnerability.get("fix") or {}).get("state") == "fixed"
        yield Finding(vulnerability["id"], package, _word(vulnerability.get("severity")), fixed)


def _is_trivy(data: Mapping[str, Any]) -> bool:
    return "SchemaVersion" in data and ("Results" in data or "ArtifactName" in data)


def _trivy(data: Mapping[str, Any]) -> Iterator[Finding]:
    for result in data.get("Results") or []:
        for vulnerability in result.get("Vulnerabilities") or []:
            package = (
                f"{vulnerability.get('PkgName', '')}@{vulnerability.get('InstalledVersion', '')}"
            )
            yield Finding(
                vulnerability["VulnerabilityID"],
                package,
                _word(vulnerability.get("Severity")),
                bool(vulnerability.get("FixedVersion")),
            )


def _is_osv(data: Mapping[str, Any]) -> bool:
    results = data.get("results")
    return isinstance(results, list) and all(
        isinstance(result, Mapping) and "packages" in result for result in results
    )


def _osv(data: Mapping[str, Any]) -> Iterator[Finding]:
    for result in data["results"]:
        for entry in result["packages"]:
            package = entry["package"]
            name = f"{package.get('name', '')}@{package.get('version', '')}"
            advisories = {v["id"]: v for v in entry.get("vulnerabilities") or []}
            groups = entry.get("groups") or [{"ids": [id_]} for id_ in advisories]
            for group in groups:
                ids = group["ids"]
                members = [advisories[i] for i in ids if i in advisories]
                yield Finding(
                    sorted(ids)[0],
                    name,
                    _osv_severity(group, members),
                    any(_osv_fixed(m) for m in members),
                )


def _osv_severity(group: Mapping[str, Any], advisories: Iterable[Mapping[str, Any]]) -> str:
    if group.get("max_severity") not in (None, ""):
        return _cvss(group["max_severity"])
    words = [_word((a.get("database_specific") or {}).get("severity")) for a in advisories]
    return min(words, key=SEVERITIES.index, default="low")


def _osv_fixed(advisory: Mapping[str, Any]) -> bool:
    return any(
        "fixed" in event
        for affected in advisory.get("affected") or []
        for range_ in affected.get("ranges") or []
        for event in range_.get("events") or []
    )


_READERS: tuple[
    tuple[
        str, Callable[[Mapping[str, Any]], bool], Callable[[Mapping[str, Any]], Iterator[Finding]]
    ],
    ...,
] = (
    ("SARIF 2.1", _is_sarif, _sarif),
    ("Grype JSON", _is_grype, _grype),
    ("Trivy JSON", _is_trivy, _trivy),
    ("OSV-Scanner JSON", _is_osv, _osv),
)
