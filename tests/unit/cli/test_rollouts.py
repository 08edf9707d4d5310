"""The rollout commands end to end in-process, against an in-memory stand-in for the API."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airollout.adapters.kubernetes.rollout_objects import (
    NotFoundError,
    RolloutConflictError,
    RolloutRef,
)
from airollout.cli import rollouts
from airollout.cli.main import main
from airollout.core.resource.status import Phase

pytestmark = pytest.mark.unit

Builder = Callable[..., Any]
Manifest = dict[str, Any]


class FakeRollouts:
    """Serves a fixed rollout (or a sequence of versions to watch) and records patches."""

    def __init__(self, versions: list[Manifest] | None, conflicts: int = 0) -> None:
        self.versions = versions
        self.patches: list[dict[str, Any]] = []
        self.conflicts = conflicts

    def get(self, ref: RolloutRef) -> Manifest:
        if not self.versions:
            raise NotFoundError(f"AIRollout {ref} not found")
        return self.versions[0]

    def merge_patch(self, ref: RolloutRef, patch: dict[str, Any]) -> Manifest:
        self.patches.append(patch)
        if self.conflicts:
            self.conflicts -= 1
            raise RolloutConflictError("the object has been modified")
        return self.get(ref)

    def follow(self, ref: RolloutRef, deadline: float, notify: Any) -> Iterator[Manifest]:
        self.get(ref)
        yield from self.versions or []


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeRollouts]:
    def serving(*versions: Manifest, conflicts: int = 0) -> FakeRollouts:
        fake = FakeRollouts(list(versions), conflicts)

        def opened(args: argparse.Namespace) -> tuple[FakeRollouts, RolloutRef]:
            return fake, RolloutRef(args.namespace or "shop", args.name)

        monkeypatch.setattr(rollouts, "_open", opened)
        return fake

    return serving


@pytest.mark.parametrize("action", ["abort", "promote", "resume"])
def test_an_action_sets_both_annotations_on_the_version_read(
    action: str, serve: Builder, manifest: Builder, status: Builder, capsys: Any
) -> None:
    fake = serve(manifest(status()))

    code = main([action, "checkout-4f2a1c", "--by", "ana@laptop"])

    assert code == 0
    assert fake.patches == [
        {
            "metadata": {
                "annotations": {
                    "airollout.dev/action": action,
                    "airollout.dev/action-by": "ana@laptop",
                },
                "resourceVersion": "42",
            }
        }
    ]
    assert (
        f"Asked the operator to {action} AIRollout shop/checkout-4f2a1c" in capsys.readouterr().out
    )


def test_the_requester_defaults_to_user_at_host(
    serve: Builder, manifest: Builder, status: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "ana")
    monkeypatch.setattr("socket.gethostname", lambda: "laptop")
    fake = serve(manifest(status()))

    main(["abort", "checkout-4f2a1c"])

    assert fake.patches[0]["metadata"]["annotations"]["airollout.dev/action-by"] == "ana@laptop"


@pytest.mark.parametrize("phase", [Phase.SUCCEEDED, Phase.ROLLED_BACK, Phase.FAILED])
@pytest.mark.parametrize("command", ["abort", "promote", "resume", "pause"])
def test_a_finished_rollout_is_refused_and_left_alone(
    command: str, phase: Phase, serve: Builder, manifest: Builder, status: Builder, capsys: Any
) -> None:
    fake = serve(manifest(status(phase)))

    code = main([command, "checkout-4f2a1c"])

    assert code == 1
    assert fake.patches == []
    assert f"already ended ({phase.value})" in capsys.readouterr().err


def test_resume_of_a_paused_rollout_also_unpauses_the_spec(
    serve: Builder, manifest: Builder, status: Builder
) -> None:
    fake = serve(manifest(status(Phase.PAUSED), paused=True))

    main(["resume", "checkout-4f2a1c", "--by", "ana"])

    assert fake.patches[0]["spec"] == {"paused": False}
    assert fake.patches[0]["metadata"]["annotations"]["airollout.dev/action"] == "resume"


def test_pause_sets_spec_paused_and_no_annotation(
    serve: Builder, manifest: Builder, status: Builder
) -> None:
    fake = serve(manifest(status()))

    assert main(["pause", "checkout-4f2a1c"]) == 0
    assert fake.patches == [{"spec": {"paused": True}, "metadata": {"resourceVersion": "42"}}]


def test_a_conflicting_write_is_retried_on_a_fresh_read(
    serve: Builder, manifest: Builder, status: Builder
) -> None:
    fake = serve(manifest(status()), conflicts=1)

    assert main(["abort", "checkout-4f2a1c", "--by", "ana"]) == 0
    assert len(fake.patches) == 2


def test_a_rollout_that_keeps_changing_gives_up_with_exit_1(
    serve: Builder, manifest: Builder, status: Builder, capsys: Any
) -> None:
    serve(manifest(status()), conflicts=10)

    assert main(["abort", "checkout-4f2a1c", "--by", "ana"]) == 1
    assert "kept changing" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["abort", "status", "watch", "pause"])
def test_a_missing_rollout_is_one_line_and_exit_1(
    command: str, serve: Builder, capsys: Any
) -> None:
    serve()

    code = main([command, "foo", "-n", "shop"])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.err == f"airollout {command}: AIRollout shop/foo not found\n"


def test_status_json_is_the_stored_status_with_the_newest_decisions(
    serve: Builder, manifest: Builder, status: Builder, decision: Builder, capsys: Any
) -> None:
    records = [decision(key=f"w{index}", reasoning=f"Reason {index}.") for index in range(3)]
    stored = manifest(status(), records)
    serve(stored)

    assert main(["status", "checkout-4f2a1c", "-o", "json", "--decisions", "1"]) == 0

    printed = json.loads(capsys.readouterr().out)
    assert printed["decisions"] == stored["status"]["decisions"][-1:]
    assert printed["phase"] == "Progressing"


def test_status_text_shows_the_reasoning(
    serve: Builder, manifest: Builder, status: Builder, decision: Builder, capsys: Any
) -> None:
    serve(manifest(status(), [decision(reasoning="Canary errors are 4x stable's.")]))

    assert main(["status", "checkout-4f2a1c"]) == 0
    assert "Canary errors are 4x stable's." in capsys.readouterr().out


@pytest.mark.parametrize(("phase", "code"), [(Phase.SUCCEEDED, 0), (Phase.ROLLED_BACK, 1)])
def test_watch_exits_with_the_final_phase_and_writes_github_outputs(
    phase: Phase,
    code: int,
    serve: Builder,
    manifest: Builder,
    status: Builder,
    decision: Builder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    verdict = decision(action="proceed" if code == 0 else "rollback", reasoning="The verdict.")
    serve(manifest(status()), manifest(status(), [verdict]), manifest(status(phase), [verdict]))

    assert main(["watch", "checkout-4f2a1c"]) == code

    out = capsys.readouterr().out
    assert out.count("The verdict.") == 1
    assert f"→ {phase.value}" in out
    assert output.read_text() == f"phase={phase.value}\ndecision={verdict.action}\n"
    assert phase.value in summary.read_text()


def test_watch_that_runs_out_of_time_exits_2(
    serve: Builder,
    manifest: Builder,
    status: Builder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    output = tmp_path / "output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    serve(manifest(status()))

    assert main(["watch", "checkout-4f2a1c", "--timeout", "1"]) == 2
    assert "timed out after 1s" in capsys.readouterr().err
    assert output.read_text().startswith("phase=Progressing\n")


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_approve_and_reject_answer_a_rollout_awaiting_review(
    action: str, serve: Builder, manifest: Builder, status: Builder, capsys: Any
) -> None:
    fake = serve(manifest(status(Phase.AWAITING_APPROVAL, weight=0, slice=None)))

    code = main([action, "checkout-4f2a1c", "--by", "ana"])

    assert code == 0
    annotations = fake.patches[0]["metadata"]["annotations"]
    assert annotations == {"airollout.dev/action": action, "airollout.dev/action-by": "ana"}
    assert f"Asked the operator to {action}" in capsys.readouterr().out


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_approve_and_reject_of_a_rollout_not_in_review_are_refused(
    action: str, serve: Builder, manifest: Builder, status: Builder, capsys: Any
) -> None:
    fake = serve(manifest(status(Phase.PROGRESSING)))

    code = main([action, "checkout-4f2a1c"])

    assert code == 1
    assert fake.patches == []
    assert f"is Progressing, not AwaitingApproval: nothing to {action}" in capsys.readouterr().err


def test_status_shows_the_promotion_score_decision_and_blocks(
    serve: Builder, manifest: Builder, status: Builder, capsys: Any
) -> None:
    verdict = {"score": 0.41, "decision": "block", "blocks": ["2 tests failed"], "model": "m1"}
    serve(manifest(status(Phase.BLOCKED, promotion=verdict)))

    assert main(["status", "checkout-4f2a1c"]) == 0

    out = capsys.readouterr().out
    assert "Promotion:  0.410 block (model m1); blocks: 2 tests failed" in out
