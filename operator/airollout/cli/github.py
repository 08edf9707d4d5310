"""GitHub Actions outputs of `airollout watch`: step outputs and a markdown job summary."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

from airollout.cli.manifest import RolloutView

SUMMARY_DECISIONS = 10
SUMMARY_REASONING_CHARS = 300


def write_step_outputs(env: Mapping[str, str], outputs: Mapping[str, str]) -> None:
    """Append `name=value` lines to $GITHUB_OUTPUT; a multi-line value gets a delimiter."""
    target = env.get("GITHUB_OUTPUT")
    if not target:
        return
    with Path(target).open("a", encoding="utf-8") as out:
        for name, value in outputs.items():
            if "\n" in value:
                delimiter = f"EOF_{secrets.token_hex(8)}"
                out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                out.write(f"{name}={value}\n")


def append_step_summary(env: Mapping[str, str], view: RolloutView, outcome: str) -> None:
    """Append the rollout's outcome and its latest decisions as markdown to the job summary."""
    target = env.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(summary_markdown(view, outcome))


def watch_outputs(view: RolloutView) -> dict[str, str]:
    """`phase` and `decision` (the newest verdict's action, empty when none was made)."""
    newest = view.decisions[-1].action if view.decisions else ""
    return {"phase": view.status.phase.value, "decision": newest}


def summary_markdown(view: RolloutView, outcome: str) -> str:
    status = view.status
    lines = [
        f"### AIRollout `{view.ref}`: {status.phase.value}",
        "",
        f"{outcome}. Target `{view.target}`, revision `{view.revision or '-'}`, "
        f"canary weight {status.weight}%.",
    ]
    if status.message:
        lines += ["", f"> {_cell(status.message)}"]
    shown = view.decisions[-SUMMARY_DECISIONS:]
    if shown:
        lines += ["", "| Time | Action | Slice | Weight | Reasoning |", "|---|---|---|---|---|"]
        for record in shown:
            slice_number = "-" if record.slice is None else str(record.slice + 1)
            reasoning = _cell(record.reasoning)[:SUMMARY_REASONING_CHARS]
            lines.append(
                f"| {record.time} | **{record.action}** | {slice_number} | {record.weight}% "
                f"| {reasoning} |"
            )
    return "\n".join(lines) + "\n\n"


def _cell(text: str) -> str:
    """One table cell: no line breaks, and pipes that would end the cell escaped."""
    return " ".join(text.split()).replace("|", "\\|")
