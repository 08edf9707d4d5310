"""Running one shard of a plan with pytest and counting what happened."""

from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airollout.adapters.selection.junit import node_id_of, node_ids_by_key, read_results
from airollout.core.selection.index import SelectionInputError

FAILED = ("failed", "error")


@dataclasses.dataclass(frozen=True)
class ShardResult:
    shard: int
    passed: int
    failed: int
    skipped: int
    failing: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "shard": self.shard,
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "failing": list(self.failing),
        }


def run_shard(repo: Path, python: str, shard: int, node_ids: Sequence[str]) -> ShardResult:
    if not node_ids:
        return ShardResult(shard, 0, 0, 0, ())
    with tempfile.TemporaryDirectory(prefix="airollout-shard-") as scratch:
        junit = Path(scratch) / "junit.xml"
        command = [python, "-m", "pytest", f"--rootdir={repo}", f"--junitxml={junit}", "-q"]
        try:
            done = subprocess.run([*command, *node_ids], cwd=repo, check=False)
        except OSError as error:
            raise SelectionInputError(f"--python {python}: cannot run it ({error})") from error
        if not junit.exists():
            raise SelectionInputError(f"--plan shard {shard}: pytest exited {done.returncode}")
        results = read_results(junit)
    keys = node_ids_by_key(node_ids)
    outcomes = [(node_id_of(case, keys), case.outcome) for case in results]
    failing = tuple(node_id for node_id, outcome in outcomes if outcome in FAILED)
    skipped = sum(outcome == "skipped" for _, outcome in outcomes)
    return ShardResult(
        shard, len(outcomes) - len(failing) - skipped, len(failing), skipped, failing
    )
