"""The feedback report: real PNG plots, and Markdown that names them and the numbers."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from airollout.core.feedback.drift import events_from, findings
from airollout.core.feedback.outcomes import (
    FinishedRollout,
    FullRun,
    LabelledRollout,
    Outcome,
    PlanRecord,
)
from airollout.core.feedback.policy import initial_policy
from airollout.core.feedback.scores import selection_escapes
from airollout.feedback.report import FIGURE_FILES, MAX_BYTES, ReportInputs, write_report

pytestmark = pytest.mark.unit

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)
# (days ago, outcome, score): 6 right verdicts of 8, 1 false rollback of 3 rollbacks
ROLLOUTS = [
    (40, Outcome.HEALTHY, 0.97),
    (33, Outcome.HEALTHY, 0.95),
    (26, Outcome.REGRESSED, 0.93),
    (20, Outcome.ROLLED_BACK_BAD, 0.40),
    (14, Outcome.HEALTHY, 0.88),
    (9, Outcome.FALSE_ROLLBACK, 0.62),
    (5, Outcome.ROLLED_BACK_BAD, 0.15),
    (2, Outcome.HEALTHY, 0.99),
]


def labelled() -> list[LabelledRollout]:
    items = []
    for index, (days_ago, outcome, score) in enumerate(ROLLOUTS):
        promoted = outcome in (Outcome.HEALTHY, Outcome.REGRESSED)
        rollout = FinishedRollout(
            f"web-{index}",
            "shop",
            "web",
            f"r{index}",
            f"h{index}",
            "promoted" if promoted else "rolled-back",
            NOW - days_ago * DAY,
            score=score,
        )
        items.append(LabelledRollout(rollout, outcome))
    return items


def inputs() -> ReportInputs:
    plans = [
        PlanRecord(f"r{i}", frozenset({"t_a"}), (f"pkg{i}/m.py",), NOW - (30 - 7 * i) * DAY)
        for i in range(4)
    ]
    runs = [FullRun("r1", frozenset({"t_b", "t_c"}), NOW - 20 * DAY)]
    runs += [FullRun("r3", frozenset({"t_d"}), NOW - DAY)]
    escapes = selection_escapes(plans, runs)
    events = events_from(labelled(), escapes)
    policy = dataclasses.replace(
        initial_policy(NOW - DAY),
        version=3,
        changes=("autoPromote 0.92 → 0.95: 2 of 9 auto-promoted artifacts regressed",),
    )
    return ReportInputs(NOW, labelled(), plans, escapes, findings(events, NOW), policy)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(inputs(), tmp_path_factory.mktemp("report"))


@pytest.mark.parametrize("name", sorted(FIGURE_FILES))
def test_each_plot_is_a_png_with_a_picture_in_it(report: Path, name: str) -> None:
    path = report.parent / FIGURE_FILES[name]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    assert pixels.shape[0] > 100
    assert pixels.shape[1] > 100
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 2


def test_the_markdown_names_each_figure(report: Path) -> None:
    text = report.read_text()
    for file in FIGURE_FILES.values():
        assert f"]({file})" in text


def test_the_markdown_carries_the_numbers_it_was_given(report: Path) -> None:
    text = report.read_text()
    assert "| Judge accuracy | 75.0 % (6 of 8) |" in text
    assert "| False rollbacks | 1 of 3 (33.3 %) |" in text
    assert "| Promoted but regressed | 1 of 5 (20.0 %) |" in text
    assert "3 escapes in 4 targeted plans; 2 plans let a failing test through (50.0 %)" in text
    # good artifacts: healthy and the false rollback; Brier by hand over the eight scores
    good = [1, 1, 0, 0, 1, 1, 0, 1]
    brier = sum((s - g) ** 2 for (_, _, s), g in zip(ROLLOUTS, good, strict=True)) / 8
    assert f"Brier score {brier:.3f}" in text
    assert "3 regressions escaped the targeted test plan in the last 30 days" in text
    assert "autoPromote 0.92 → 0.95: 2 of 9 auto-promoted artifacts regressed" in text
    assert "Version 3" in text


def test_the_markdown_fits_a_step_summary_or_a_comment(report: Path) -> None:
    text = report.read_text()
    assert len(text.encode()) < MAX_BYTES
    assert re.search(r"<[a-zA-Z/!]", text) is None


def test_a_huge_report_is_cut_at_a_line_and_says_so(tmp_path: Path) -> None:
    base = inputs()
    assert base.policy is not None
    policy = dataclasses.replace(
        base.policy, changes=tuple(f"change {i} " * 20 for i in range(900))
    )
    path = write_report(dataclasses.replace(base, policy=policy), tmp_path)
    text = path.read_text()
    assert len(text.encode()) <= MAX_BYTES
    assert text.endswith("(report cut to fit 64 KiB)\n")


def test_without_data_no_plot_is_drawn_and_the_report_says_why(tmp_path: Path) -> None:
    path = write_report(ReportInputs(NOW, [], [], [], [], None), tmp_path)
    text = path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert "No labelled rollout had a promotion score yet." in text
    assert "No policy written yet." in text
    assert "| Judge accuracy | n/a (0 of 0) |" in text
