"""The labelled outcomes as the history signal's input: what `airollout promotion score
--history` reads, one finished rollout a JSON line.

`service` is the target Deployment's name (`spec.targetRef.name`): a promotion Job passes
`--service` with the name of what it promotes. `namespace`, `rollout`, `revision`,
`finished_at` and the promotion `score` come along for people; the reader ignores them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airollout.core.feedback.outcomes import Outcome
from airollout.feedback.finished import Tracked


def history_records(labelled: Sequence[tuple[Tracked, Outcome]]) -> list[dict[str, Any]]:
    """One record per labelled rollout, oldest first (the order the outcomes came in)."""
    ordered = sorted(labelled, key=lambda pair: pair[0].rollout.finished_at)
    return [_record(item, outcome) for item, outcome in ordered]


def _record(item: Tracked, outcome: Outcome) -> dict[str, Any]:
    rollout = item.rollout
    return {
        "service": rollout.target,
        "outcome": outcome.value,
        "namespace": rollout.namespace,
        "rollout": rollout.name,
        "revision": rollout.revision,
        "finished_at": rollout.finished_at.isoformat(),
        "score": rollout.score,
    }


def write_history(path: Path, labelled: Sequence[tuple[Tracked, Outcome]]) -> int:
    """Writes the file whole (a rerun replaces it); returns how many lines it holds."""
    records = history_records(labelled)
    text = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
    path.write_text(text, encoding="utf-8")
    return len(records)
