"""The report's PNG plots, drawn with matplotlib's Agg canvas (no display, no pyplot state).

Each function draws one figure from values the core computed and returns the file it wrote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from matplotlib import dates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from airollout.core.feedback.outcomes import Escape, LabelledRollout, Outcome, PlanRecord
from airollout.core.feedback.scores import Bin

# matplotlib's date numbers (days since its epoch), typed: its own stub leaves it untyped
date2num: Callable[[Sequence[datetime]], Sequence[float]] = dates.date2num

PERIOD = timedelta(days=7)
SIZE = (6.4, 4.0)
DPI = 100
OUTCOME_COLOURS = {
    Outcome.HEALTHY: "#2e7d32",
    Outcome.REGRESSED: "#c62828",
    Outcome.ROLLED_BACK_BAD: "#1565c0",
    Outcome.FALSE_ROLLBACK: "#f9a825",
}


def _figure() -> Figure:
    figure = Figure(figsize=SIZE, dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path


def reliability_diagram(bins: Sequence[Bin], path: Path) -> Path:
    """Observed rate against mean score per bin, beside the diagonal of perfect calibration."""
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    filled = [
        (b, b.mean_probability, b.observed_rate)
        for b in bins
        if b.mean_probability is not None and b.observed_rate is not None
    ]
    axes.bar(
        [(b.lower + b.upper) / 2 for b, _, _ in filled],
        [rate for _, _, rate in filled],
        width=[(b.upper - b.lower) * 0.9 for b, _, _ in filled],
        color="#90caf9",
        edgecolor="#1565c0",
        label="observed share of good artifacts",
    )
    axes.plot(
        [mean for _, mean, _ in filled],
        [rate for _, _, rate in filled],
        marker="o",
        color="#1565c0",
        label="mean score in the bin",
    )
    axes.set(xlim=(0, 1), ylim=(0, 1), xlabel="promotion score", ylabel="observed rate")
    axes.set_title("Reliability of the promotion score")
    axes.legend(loc="upper left", fontsize="small")
    return _save(figure, path)


def _period_start(at: datetime, origin: datetime, period: timedelta) -> datetime:
    return origin + ((at - origin) // period) * period


def outcomes_over_time(
    labelled: Sequence[LabelledRollout], path: Path, period: timedelta = PERIOD
) -> Path:
    """Stacked bars: each period's finished rollouts by outcome."""
    origin = min(item.rollout.finished_at for item in labelled)
    counts = Counter(
        (_period_start(item.rollout.finished_at, origin, period), item.outcome) for item in labelled
    )
    starts = sorted({start for start, _ in counts})
    figure = _figure()
    axes = figure.add_subplot()
    bottom = [0] * len(starts)
    for outcome, colour in OUTCOME_COLOURS.items():
        heights = [counts[(start, outcome)] for start in starts]
        axes.bar(
            date2num(starts),
            heights,
            width=period / timedelta(days=1) * 0.8,
            bottom=bottom,
            color=colour,
            label=outcome,
        )
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set(xlabel="period starting", ylabel="rollouts")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Outcomes over time")
    axes.legend(fontsize="small")
    axes.xaxis_date()
    figure.autofmt_xdate()
    return _save(figure, path)


def escape_rate_over_time(
    plans: Sequence[PlanRecord],
    escapes: Sequence[Escape],
    path: Path,
    period: timedelta = PERIOD,
) -> Path:
    """Each period's share of targeted plans that let at least one failing test through."""
    origin = min(plan.planned_at for plan in plans)
    escaped = {(escape.revision, escape.planned_at) for escape in escapes}
    planned: Counter[datetime] = Counter()
    leaky: Counter[datetime] = Counter()
    for plan in plans:
        start = _period_start(plan.planned_at, origin, period)
        planned[start] += 1
        leaky[start] += (plan.revision, plan.planned_at) in escaped
    starts = sorted(planned)
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(
        date2num(starts), [leaky[s] / planned[s] for s in starts], marker="o", color="#c62828"
    )
    axes.set(ylim=(0, 1), xlabel="period starting", ylabel="plans with an escape")
    axes.set_title("Escape rate of the targeted test plans")
    axes.xaxis_date()
    figure.autofmt_xdate()
    return _save(figure, path)
