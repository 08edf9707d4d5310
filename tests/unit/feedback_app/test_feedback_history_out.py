"""The labelled outcomes the loop writes are what `promotion score --history` reads: the
writer's file through the real reader and the real command, changing the history signal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from airollout.cli.main import main
from airollout.core.feedback.outcomes import Outcome
from airollout.feedback.finished import Tracked, finished
from airollout.feedback.history import write_history

pytestmark = pytest.mark.unit

DATA = Path(__file__).parents[1] / "reports" / "data"
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CLEAN = ["--junit", str(DATA / "junit_pytest.xml"), "--change-files", "2", "--change-lines", "30"]


def a_rollout(name: str, target: str, minute: int) -> Tracked:
    done = (START + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")
    manifest = {
        "metadata": {"name": name, "namespace": "shop", "uid": name},
        "spec": {"targetRef": {"name": target}, "revision": f"r-{name}"},
        "status": {
            "phase": "Succeeded",
            "conditions": [{"type": "Completed", "status": "True", "lastTransitionTime": done}],
        },
    }
    item = finished(manifest, [])
    assert item is not None
    return item


def scored(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    capsys.readouterr()
    main(["promotion", "score", *CLEAN, *argv, "--json"])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def test_the_lines_name_the_target_and_the_outcome_oldest_first(tmp_path: Path) -> None:
    out = tmp_path / "outcomes.jsonl"
    labelled = [
        (a_rollout("checkout-2", "checkout", 5), Outcome.REGRESSED),
        (a_rollout("checkout-1", "checkout", 1), Outcome.HEALTHY),
    ]

    assert write_history(out, labelled) == 2

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["service"], line["outcome"], line["rollout"]) for line in lines] == [
        ("checkout", "healthy", "checkout-1"),
        ("checkout", "regressed", "checkout-2"),
    ]


def test_promotion_score_reads_the_written_history_for_its_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "outcomes.jsonl"
    labelled = [
        (a_rollout("checkout-1", "checkout", 1), Outcome.HEALTHY),
        (a_rollout("checkout-2", "checkout", 2), Outcome.REGRESSED),
        (a_rollout("checkout-3", "checkout", 3), Outcome.ROLLED_BACK_BAD),
        (a_rollout("checkout-4", "checkout", 4), Outcome.FALSE_ROLLBACK),
        (a_rollout("cart-1", "cart", 5), Outcome.REGRESSED),
    ]
    write_history(out, labelled)
    clean = tmp_path / "clean.jsonl"
    write_history(
        clean, [(a_rollout(f"checkout-{n}", "checkout", n), Outcome.HEALTHY) for n in range(4)]
    )

    without = scored(capsys)
    troubled = scored(capsys, "--history", str(out), "--service", "checkout")
    healthy = scored(capsys, "--history", str(clean), "--service", "checkout")

    assert "history" not in without["signals"]
    assert troubled["signals"]["history"] == {"rollouts": 4, "incidents": 2}
    assert healthy["signals"]["history"] == {"rollouts": 4, "incidents": 0}
    assert troubled["score"] < healthy["score"]
