"""watch stops with exit 3 where only a person can move the rollout on, unless told to wait."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airollout.adapters.kubernetes.rollout_objects import RolloutRef
from airollout.cli import rollouts
from airollout.cli.main import main
from airollout.cli.progress import EXIT_NEEDS_PERSON, stop_code, waits_for_person
from airollout.core.resource.status import Phase

pytestmark = pytest.mark.unit

Builder = Callable[..., Any]
Manifest = dict[str, Any]

REVIEW = {"score": 0.81, "decision": "manual-review", "blocks": [], "model": "default-v1"}
BLOCK = {"score": 0.97, "decision": "block", "blocks": ["2 tests failed"], "model": "default-v1"}


class Versions:
    """The successive versions a watch sees, and how many of them it read."""

    def __init__(self, versions: list[Manifest]) -> None:
        self.versions = versions
        self.read = 0

    def follow(self, ref: RolloutRef, deadline: float, notify: Any) -> Iterator[Manifest]:
        for version in self.versions:
            self.read += 1
            yield version


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Versions]:
    def serving(*versions: Manifest) -> Versions:
        fake = Versions(list(versions))

        def opened(args: argparse.Namespace) -> tuple[Versions, RolloutRef]:
            return fake, RolloutRef(args.namespace or "shop", args.name)

        monkeypatch.setattr(rollouts, "_open", opened)
        return fake

    return serving


def _in_review(status: Builder) -> Any:
    return status(
        Phase.AWAITING_APPROVAL,
        slice=None,
        weight=0,
        reason="ManualReview",
        message="Promotion score 0.810 is in the manual review band [0.75, 0.92).",
        promotion=REVIEW,
    )


def _blocked(status: Builder, **fields: Any) -> Any:
    defaults: dict[str, Any] = {"reason": "PromotionBlocked", "message": "Blocked: 2 tests failed."}
    defaults["promotion"] = BLOCK
    return status(Phase.BLOCKED, slice=None, weight=0, **{**defaults, **fields})


def test_review_and_promotion_block_wait_for_a_person(status: Builder) -> None:
    assert waits_for_person(_in_review(status))
    assert waits_for_person(_blocked(status))
    assert not waits_for_person(status(Phase.PROGRESSING))


def test_a_rollout_blocked_by_another_one_is_watched_on(status: Builder) -> None:
    conflict = _blocked(status, reason="Conflict", blocked_by="shop/checkout-1", promotion=None)

    assert not waits_for_person(conflict)
    assert stop_code(conflict, wait_for_approval=False) is None


@pytest.mark.parametrize("wait", [False, True])
def test_stop_code_in_review_depends_on_wait_for_approval(status: Builder, wait: bool) -> None:
    expected = None if wait else EXIT_NEEDS_PERSON
    assert stop_code(_in_review(status), wait_for_approval=wait) == expected
    assert stop_code(status(Phase.SUCCEEDED), wait_for_approval=wait) == 0


def test_watch_in_review_prints_why_and_exits_3(
    serve: Builder,
    manifest: Builder,
    status: Builder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    output = tmp_path / "output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    fake = serve(manifest(_in_review(status)), manifest(status(Phase.SUCCEEDED)))

    assert main(["watch", "checkout-4f2a1c"]) == EXIT_NEEDS_PERSON

    out = capsys.readouterr().out
    assert fake.read == 1
    assert "shop/checkout-4f2a1c is AwaitingApproval (ManualReview): waiting for a person" in out
    assert "manual review band [0.75, 0.92)" in out
    assert "promotion: 0.810 manual-review (model default-v1)" in out
    assert output.read_text().startswith("phase=AwaitingApproval\n")


def test_watch_blocked_shows_the_blocks_and_exits_3(
    serve: Builder, manifest: Builder, status: Builder, capsys: Any
) -> None:
    serve(manifest(_blocked(status)))

    assert main(["watch", "checkout-4f2a1c"]) == EXIT_NEEDS_PERSON
    assert "promotion: 0.970 block (model default-v1); blocks: 2 tests failed" in (
        capsys.readouterr().out
    )


def test_wait_for_approval_watches_on_until_the_approved_rollout_ends(
    serve: Builder, manifest: Builder, status: Builder, capsys: Any
) -> None:
    fake = serve(
        manifest(_in_review(status)),
        manifest(status(Phase.PROGRESSING)),
        manifest(status(Phase.SUCCEEDED)),
    )

    assert main(["watch", "checkout-4f2a1c", "--wait-for-approval"]) == 0

    out = capsys.readouterr().out
    assert fake.read == 3
    assert "waiting for a person" not in out
    assert "AwaitingApproval → Progressing" in out
