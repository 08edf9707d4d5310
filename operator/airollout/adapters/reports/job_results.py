"""Signals from what the operator hands the promotion Job: the tests Job's totals
(`AIROLLOUT_TEST_RESULTS`: passed, failed, skipped, failing) and the selection plan
(`AIROLLOUT_TEST_PLAN`: its risk tier). Each is JSON text, or `@PATH` for a file, so a Job's
args can pass `$(AIROLLOUT_TEST_RESULTS)` as Kubernetes expands it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airollout.adapters.reports.common import Reading, ReportError, json_object
from airollout.core.promotion.signals import RISK_TIERS

SHOWN_FAILING = 5


def read_test_totals(text: str) -> Reading:
    totals = _document("--test-results", text)
    counts = {name: _count(totals, name) for name in ("passed", "failed", "skipped")}
    failing = totals.get("failing") or []
    if not isinstance(failing, list):
        raise ReportError("--test-results: failing must be a list of test ids")
    signal = {
        "total": sum(counts.values()),
        "failed": counts["failed"],
        "skipped": counts["skipped"],
    }
    note = (
        f"tests (the tests Job): {counts['passed']} passed, {counts['failed']} failed,"
        f" {counts['skipped']} skipped"
    )
    if failing:
        note += f"; failing: {', '.join(str(test) for test in failing[:SHOWN_FAILING])}"
    return Reading({"tests": signal}, (note,))


def read_plan_risk(text: str) -> str:
    tier = _document("--test-plan", text).get("risk_tier")
    if tier not in RISK_TIERS:
        raise ReportError(f"--test-plan: risk_tier must be one of {', '.join(RISK_TIERS)}")
    return str(tier)


def _document(flag: str, text: str) -> Mapping[str, Any]:
    if text.startswith("@"):
        return json_object(Path(text[1:]), f"{flag} JSON object")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(f"{flag}: not valid JSON ({error.msg}); give JSON or @FILE") from None
    if not isinstance(document, Mapping):
        raise ReportError(f"{flag}: must be a JSON object")
    return document


def _count(totals: Mapping[str, Any], name: str) -> int:
    value = totals.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ReportError(f"--test-results: {name} must be an integer >= 0")
    return value
