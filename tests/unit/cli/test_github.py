"""GitHub Actions outputs: `phase` and `decision` step outputs and the markdown summary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airollout.cli.github import (
    append_step_summary,
    summary_markdown,
    watch_outputs,
    write_step_outputs,
)
from airollout.cli.manifest import rollout_view
from airollout.core.resource.status import Phase

pytestmark = pytest.mark.unit

Builder = Callable[..., Any]


def test_outputs_are_the_phase_and_the_newest_action(
    manifest: Builder, status: Builder, decision: Builder
) -> None:
    records = [decision(key="a", action="proceed"), decision(key="b", action="rollback")]
    view = rollout_view(manifest(status(Phase.ROLLED_BACK), records))

    assert watch_outputs(view) == {"phase": "RolledBack", "decision": "rollback"}


def test_no_decision_yet_is_an_empty_output(manifest: Builder, status: Builder) -> None:
    assert watch_outputs(rollout_view(manifest(status())))["decision"] == ""


def test_outputs_are_appended_as_name_value_lines(tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    output.write_text("earlier=kept\n")

    write_step_outputs(
        {"GITHUB_OUTPUT": str(output)}, {"phase": "Succeeded", "decision": "proceed"}
    )

    assert output.read_text().splitlines() == [
        "earlier=kept",
        "phase=Succeeded",
        "decision=proceed",
    ]


def test_a_multiline_output_uses_a_delimiter(tmp_path: Path) -> None:
    output = tmp_path / "github_output"

    write_step_outputs({"GITHUB_OUTPUT": str(output)}, {"reasoning": "one\ntwo"})

    lines = output.read_text().splitlines()
    delimiter = lines[0].removeprefix("reasoning<<")
    assert lines[1:] == ["one", "two", delimiter]


def test_nothing_is_written_outside_github_actions(tmp_path: Path) -> None:
    write_step_outputs({}, {"phase": "Succeeded"})
    assert list(tmp_path.iterdir()) == []


def test_summary_has_the_phase_and_a_row_per_decision_with_pipes_escaped(
    manifest: Builder, status: Builder, decision: Builder, tmp_path: Path
) -> None:
    records = [
        decision(key="a", action="proceed", reasoning="Healthy | at 10%."),
        decision(key="b", action="rollback", reasoning="Errors\nrose."),
    ]
    view = rollout_view(manifest(status(Phase.ROLLED_BACK), records))
    summary = tmp_path / "summary.md"

    append_step_summary({"GITHUB_STEP_SUMMARY": str(summary)}, view, "Ended RolledBack")

    text = summary.read_text()
    assert text == summary_markdown(view, "Ended RolledBack")
    assert "AIRollout `shop/checkout-4f2a1c`: RolledBack" in text
    rows = [line for line in text.splitlines() if line.startswith("| 2025")]
    assert len(rows) == 2
    assert "Healthy \\| at 10%." in rows[0]
    assert "Errors rose." in rows[1]
    assert "**rollback**" in rows[1]
