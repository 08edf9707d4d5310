"""A judge that raises holds the rollout, with the error in the record, and never wedges it.

The chaos e2e test found a judge bug raising at every tick: the reconcile failed before the
status was written, so even `onHold.timeout` could not end the rollout.
"""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from airollout.core.judge.rules import RulesJudge
from tests.support.controller_fakes import Harness, rollout_body

pytestmark = pytest.mark.unit


class BrokenJudge:
    """The rules judge's start state, then a bug at every decision."""

    def initial_state(self, settings: Any) -> dict[str, Any]:
        return RulesJudge().initial_state(settings)

    def decide(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise KeyError("edge")


def test_a_failing_judge_holds_and_the_hold_timeout_still_ends_the_rollout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = Harness()
    monkeypatch.setattr(harness.reconciler.judge, "_judge_for", lambda *a: BrokenJudge())
    harness.body = rollout_body(onHold={"timeout": "30s", "then": "rollback"})
    harness.reconcile()  # 10 % asked for
    harness.reconcile()  # in effect: the first window opens
    for _ in range(6):
        harness.advance(11)
        harness.reconcile()
        harness.reconcile()

    records = list(harness.log.entries.values())
    assert records, "no window was recorded"
    assert all(record.action == "hold" for record in records)
    assert "the judge failed" in records[0].reasoning
    assert "KeyError" in records[0].reasoning
    assert harness.body["status"]["phase"] == "RolledBack"
