"""What watch prints as a rollout moves, and the exit status each final phase gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airollout.cli.manifest import rollout_view
from airollout.cli.progress import EXIT_FAILED, EXIT_SUCCEEDED, Progress, exit_code_for
from airollout.core.resource.status import Phase

pytestmark = pytest.mark.unit

Builder = Callable[..., Any]


@pytest.mark.parametrize(
    ("phase", "code"),
    [
        (Phase.SUCCEEDED, EXIT_SUCCEEDED),
        (Phase.ROLLED_BACK, EXIT_FAILED),
        (Phase.FAILED, EXIT_FAILED),
    ],
)
def test_a_finished_rollout_gives_its_exit_code(phase: Phase, code: int) -> None:
    assert exit_code_for(phase) == code


@pytest.mark.parametrize(
    "phase", sorted(set(Phase) - {Phase.SUCCEEDED, Phase.ROLLED_BACK, Phase.FAILED})
)
def test_an_unfinished_rollout_gives_no_exit_code(phase: Phase) -> None:
    assert exit_code_for(phase) is None


def test_success_and_failure_codes_differ() -> None:
    assert EXIT_SUCCEEDED == 0
    assert EXIT_FAILED != EXIT_SUCCEEDED


def test_each_decision_is_printed_once_across_versions(
    manifest: Builder, status: Builder, decision: Builder
) -> None:
    progress = Progress()
    first = decision(key="g1-s0-w1", action="proceed", reasoning="All healthy at 10%.")
    second = decision(key="g1-s1-w1", action="hold", reasoning="Too few requests at 25%.")

    before = "\n".join(progress.update(rollout_view(manifest(status(), [first]))))
    after = "\n".join(progress.update(rollout_view(manifest(status(), [first, second]))))
    again = progress.update(rollout_view(manifest(status(), [first, second])))

    assert "All healthy at 10%." in before
    assert "All healthy at 10%." not in after
    assert "Too few requests at 25%." in after
    assert again == []


def test_records_without_a_key_are_still_told_apart(
    manifest: Builder, status: Builder, decision: Builder
) -> None:
    progress = Progress()
    one = decision(key=None, reasoning="First.")
    two = decision(key=None, reasoning="Second.").model_copy(update={"window": 4})

    progress.update(rollout_view(manifest(status(), [one])))
    lines = "\n".join(progress.update(rollout_view(manifest(status(), [one, two]))))

    assert "Second." in lines
    assert "First." not in lines


def test_a_phase_change_is_printed_with_its_reason_and_message(
    manifest: Builder, status: Builder
) -> None:
    progress = Progress()
    progress.update(rollout_view(manifest(status())))

    lines = progress.update(
        rollout_view(
            manifest(status(Phase.ROLLED_BACK, reason="Aborted", message="Aborted by ana."))
        )
    )

    assert "phase Progressing → RolledBack (Aborted): Aborted by ana." in lines


def test_a_traffic_change_is_printed_once(manifest: Builder, status: Builder) -> None:
    progress = Progress()
    progress.update(rollout_view(manifest(status(slice=0, weight=10))))

    moved = progress.update(rollout_view(manifest(status(slice=1, weight=25))))
    unchanged = progress.update(rollout_view(manifest(status(slice=1, weight=25))))

    assert any("slice 2/4, canary at 25%" in line for line in moved)
    assert unchanged == []
