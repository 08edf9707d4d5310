"""The feedback report: Markdown with PNG plots, for a file, a GitHub step summary or an
issue comment (plain Markdown, no HTML, under GitHub's 64 KiB).

`markdown` is pure (scores and findings in, text out); `write_report` draws the plots
beside it and writes both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from airollout.core.feedback.drift import Finding
from airollout.core.feedback.outcomes import Escape, LabelledRollout, PlanRecord
from airollout.core.feedback.policy import Policy
from airollout.core.feedback.scores import (
    Calibration,
    JudgeScores,
    SelectionScores,
    calibration,
    judge_scores,
    selection_scores,
)
from airollout.feedback import plots

REPORT_FILE = "feedback-report.md"
FIGURE_FILES = {
    "reliability": "reliability.png",
    "outcomes": "outcomes.png",
    "escapes": "escape-rate.png",
}
MAX_BYTES = 64 * 1024
MAX_ESCAPE_ROWS = 25


@dataclasses.dataclass(frozen=True)
class ReportInputs:
    generated_at: datetime
    labelled: Sequence[LabelledRollout]
    plans: Sequence[PlanRecord]
    escapes: Sequence[Escape]
    findings: Sequence[Finding]
    policy: Policy | None

    @property
    def judge(self) -> JudgeScores:
        return judge_scores(self.labelled)

    @property
    def calibration(self) -> Calibration | None:
        return calibration(self.labelled)

    @property
    def selection(self) -> SelectionScores:
        return selection_scores(self.plans, self.escapes)


def write_report(inputs: ReportInputs, directory: Path) -> Path:
    """Draw the plots there is data for, then the Markdown that names them."""
    directory.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, str] = {}
    scored = inputs.calibration
    if scored is not None:
        plots.reliability_diagram(scored.bins, directory / FIGURE_FILES["reliability"])
        drawn["reliability"] = FIGURE_FILES["reliability"]
    if inputs.labelled:
        plots.outcomes_over_time(inputs.labelled, directory / FIGURE_FILES["outcomes"])
        drawn["outcomes"] = FIGURE_FILES["outcomes"]
    if inputs.plans:
        plots.escape_rate_over_time(
            inputs.plans, inputs.escapes, directory / FIGURE_FILES["escapes"]
        )
        drawn["escapes"] = FIGURE_FILES["escapes"]
    path = directory / REPORT_FILE
    path.write_text(markdown(inputs, drawn))
    return path


def markdown(inputs: ReportInputs, figures: Mapping[str, str]) -> str:
    """The report; `figures` maps each drawn plot's name to its path from the report."""
    sections = [
        f"# AIRollout feedback report\n\nAs of {inputs.generated_at:%Y-%m-%d %H:%M %Z}.",
        _judge_section(inputs.judge, figures),
        _escape_section(inputs.selection, inputs.escapes, figures),
        _calibration_section(inputs.calibration, figures),
        _drift_section(inputs.findings),
        _policy_section(inputs.policy),
    ]
    text = "\n\n".join(sections) + "\n"
    return _fitted(text)


def _figure(figures: Mapping[str, str], name: str, alt: str) -> str:
    return f"\n\n![{alt}]({figures[name]})" if name in figures else ""


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def _judge_section(judge: JudgeScores, figures: Mapping[str, str]) -> str:
    rows = [
        ("Labelled rollouts", str(judge.labelled)),
        ("Judge accuracy", f"{_share(judge.accuracy)} ({judge.right} of {judge.labelled})"),
        (
            "Promoted but regressed",
            f"{judge.regressed} of {judge.promoted} ({_share(judge.regression_rate)})",
        ),
        (
            "False rollbacks",
            f"{judge.false_rollbacks} of {judge.rolled_back} ({_share(judge.false_rollback_rate)})",
        ),
    ]
    table = _table(("Measure", "Value"), rows)
    return f"## Verdicts\n\n{table}" + _figure(figures, "outcomes", "Outcomes over time")


def _escape_section(
    selection: SelectionScores, escapes: Sequence[Escape], figures: Mapping[str, str]
) -> str:
    head = (
        f"## Test selection\n\n{selection.escapes} escapes in {selection.plans} targeted plans; "
        f"{selection.plans_with_escapes} plans let a failing test through "
        f"({_share(selection.escape_rate)})."
    )
    rows = [
        (f"`{e.test}`", f"`{e.revision}`", ", ".join(f"`{p}`" for p in e.changed_paths[:3]))
        for e in escapes[:MAX_ESCAPE_ROWS]
    ]
    table = f"\n\n{_table(('Escaped test', 'Revision', 'Changed paths'), rows)}" if rows else ""
    more = (
        f"\n\n…and {len(escapes) - MAX_ESCAPE_ROWS} more." if len(escapes) > MAX_ESCAPE_ROWS else ""
    )
    return head + table + more + _figure(figures, "escapes", "Escape rate over time")


def _calibration_section(scored: Calibration | None, figures: Mapping[str, str]) -> str:
    if scored is None:
        return "## Promotion score calibration\n\nNo labelled rollout had a promotion score yet."
    head = (
        f"## Promotion score calibration\n\n{scored.scored} scored rollouts: "
        f"Brier score {scored.brier:.3f}, expected calibration error {scored.ece:.3f} "
        f"({len(scored.bins)} bins)."
    )
    rows = [
        (
            f"{b.lower:.1f} to {b.upper:.1f}",
            str(b.count),
            "-" if b.mean_probability is None else f"{b.mean_probability:.3f}",
            "-" if b.observed_rate is None else f"{b.observed_rate:.3f}",
        )
        for b in scored.bins
    ]
    table = _table(("Score", "Rollouts", "Mean score", "Observed good"), rows)
    return f"{head}\n\n{table}" + _figure(figures, "reliability", "Reliability diagram")


def _drift_section(findings: Sequence[Finding]) -> str:
    if not findings:
        return "## Drift\n\nEvery rate is within its target."
    return "## Drift\n\n" + "\n".join(f"- {finding.sentence}" for finding in findings)


def _policy_section(policy: Policy | None) -> str:
    if policy is None:
        return "## Policy\n\nNo policy written yet."
    changes = "\n".join(f"- {change}" for change in policy.changes) or "- (none recorded)"
    return (
        f"## Policy\n\nVersion {policy.version}, written {policy.created_at:%Y-%m-%d %H:%M}: "
        f"autoPromote {policy.thresholds.auto_promote:.2f}, "
        f"manualReview {policy.thresholds.manual_review:.2f}, model `{policy.model.version}`."
        f"\n\nWhat changed:\n\n{changes}"
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _fitted(text: str) -> str:
    """Cut at a line so the text fits a step summary or a comment, and say so."""
    if len(text.encode()) <= MAX_BYTES:
        return text
    note = "\n\n(report cut to fit 64 KiB)\n"
    budget = MAX_BYTES - len(note.encode())
    cut = text.encode()[:budget].decode(errors="ignore")
    return cut[: cut.rfind("\n")] + note
