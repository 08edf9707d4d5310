"""The coverage signal: this build's total coverage minus the baseline's, in percentage points.

Two formats, told apart by content: coverage.py's JSON (`coverage json`: `totals.percent_covered`,
which counts branches too when branch coverage was on) and Cobertura XML (`coverage xml`,
JaCoCo converters, gcovr: the root's `line-rate`, a fraction of lines).
"""

from __future__ import annotations

import math
from pathlib import Path
from xml.etree import ElementTree

from airollout.adapters.reports.common import Reading, ReportError, read_json

COVERAGE_PY = "coverage.py JSON"
COBERTURA = "Cobertura XML"


def read_coverage_delta(build: Path, baseline: Path) -> Reading:
    build_percent, build_format = read_percent(build)
    baseline_percent, baseline_format = read_percent(baseline)
    delta = round(build_percent - baseline_percent, 4)
    note = (
        f"coverage: {build_percent:.2f} % ({build_format}) against the baseline's"
        f" {baseline_percent:.2f} % ({baseline_format}): {delta:+.2f} points"
    )
    return Reading({"coverage_delta": delta}, (note,))


def read_percent(path: Path) -> tuple[float, str]:
    """The report's total coverage in percent, and the name of the format it was read as."""
    try:
        head = path.read_bytes()[:200].lstrip()
    except OSError as error:
        raise ReportError(f"{path}: cannot be read ({error.strerror or error})") from None
    if head.startswith(b"<"):
        return _cobertura(path), COBERTURA
    return _coverage_py(path), COVERAGE_PY


def _coverage_py(path: Path) -> float:
    data = read_json(path)
    totals = data.get("totals") if isinstance(data, dict) else None
    if not isinstance(totals, dict):
        raise ReportError(
            f"{path}: is neither coverage.py JSON (no `totals` object) nor Cobertura XML"
        )
    percent = totals.get("percent_covered")
    if isinstance(percent, bool) or not isinstance(percent, int | float):
        raise ReportError(f"{path}: totals.percent_covered is missing or not a number")
    return _checked(path, float(percent), "totals.percent_covered", 100.0)


def _cobertura(path: Path) -> float:
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise ReportError(f"{path}: is not well-formed XML ({error})") from None
    if root.tag != "coverage":
        raise ReportError(f"{path}: is XML but not Cobertura (its root is <{root.tag}>)")
    rate = root.get("line-rate")
    if rate is None:
        raise ReportError(f"{path}: the Cobertura <coverage> element has no line-rate")
    try:
        value = float(rate)
    except ValueError:
        raise ReportError(f"{path}: line-rate {rate!r} is not a number") from None
    return _checked(path, value, "line-rate", 1.0) * 100.0


def _checked(path: Path, value: float, field: str, top: float) -> float:
    if not math.isfinite(value) or not 0.0 <= value <= top:
        raise ReportError(f"{path}: {field} {value} is not between 0 and {top:g}")
    return value
