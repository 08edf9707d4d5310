"""The history signal: a service's past rollouts and incidents, from a JSON-lines file.

One rollout a line with `service` (or `target`) and `outcome`; extra keys are ignored, so
both the feedback loop's labelled rollouts and the promotion benchmark's history format
are read. Outcomes: `healthy` and `false-rollback` (the artifact was good), `incident`,
`regressed` and `rolled-back-bad` (it was not); `null` (not labelled yet) is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from airollout.adapters.reports.common import Reading, ReportError

GOOD = frozenset({"healthy", "false-rollback"})
BAD = frozenset({"incident", "regressed", "rolled-back-bad"})


def read_history(path: Path, service: str) -> Reading:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ReportError(f"{path}: cannot be read ({error})") from None
    rollouts = incidents = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        outcome = _outcome_for(path, number, line, service)
        if outcome is None:
            continue
        rollouts += 1
        incidents += outcome in BAD
    note = f"history: {service} had {incidents} incident(s) in {rollouts} labelled rollout(s)"
    return Reading({"history": {"rollouts": rollouts, "incidents": incidents}}, (note,))


def _outcome_for(path: Path, number: int, line: str, service: str) -> str | None:
    where = f"{path}:{number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ReportError(f"{where}: is not a JSON object ({error.msg})") from None
    if not isinstance(record, dict):
        raise ReportError(f"{where}: is not a JSON object")
    name = record.get("service", record.get("target"))
    if not isinstance(name, str):
        raise ReportError(f"{where}: has no `service` (or `target`) string")
    outcome = record.get("outcome")
    if outcome is not None and outcome not in GOOD | BAD:
        known = ", ".join(sorted(GOOD | BAD))
        raise ReportError(f"{where}: outcome {outcome!r} is not one of {known}")
    return outcome if name == service else None
