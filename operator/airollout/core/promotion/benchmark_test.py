"""Did a benchmark get slower? A one-sided test of "build slower than baseline x (1 + tolerance)".

A ratio of two means calls noise a regression: one slow round (a GC pause, a noisy
neighbour) moves a mean as much as a real slow-down does. So each benchmark gets a test:

- with raw samples on both sides, Mann-Whitney U of the build's times against the
  baseline's times scaled by (1 + tolerance), alternative "greater": rank-based, so an
  outlier round counts as one rank, not as its size;
- with only summary statistics (pytest-benchmark without `--benchmark-save-data`), Welch's
  t-test from mean, standard deviation and rounds against the scaled baseline.

Across benchmarks Holm's step-down correction keeps the chance that any regression is
called by luck at `alpha`, however many benchmarks a suite has. The ratio shown is of
medians: the typical round, not the mean an outlier drags.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence

from scipy import stats

DEFAULT_TOLERANCE = 0.05
DEFAULT_ALPHA = 0.05
# With 3 rounds on each side the smallest one-sided Mann-Whitney p-value is 1/20 = 0.05:
# fewer rounds could never show a regression, which would read as "no regression".
MIN_ROUNDS = 3


class BenchmarkError(ValueError):
    """Measurements no test can be made from; the message names the benchmark."""


@dataclasses.dataclass(frozen=True)
class Summary:
    """A benchmark's rounds as summary statistics, in seconds."""

    mean: float
    stddev: float
    rounds: int
    median: float

    @staticmethod
    def of(samples: Sequence[float]) -> Summary:
        return Summary(
            mean=statistics.fmean(samples),
            stddev=statistics.stdev(samples) if len(samples) > 1 else 0.0,
            rounds=len(samples),
            median=statistics.median(samples),
        )


# Raw round times (seconds), or their summary when the raw times were not saved.
Measurement = tuple[float, ...] | Summary


@dataclasses.dataclass(frozen=True)
class Comparison:
    name: str
    ratio: float  # build median / baseline median; 1.0 = as fast
    p_value: float  # of "build slower than baseline x (1 + tolerance)"
    method: str  # "mann-whitney" or "welch-t"
    regressed: bool = False  # set by `judge`, after the correction for many benchmarks


def compare(
    name: str, build: Measurement, baseline: Measurement, tolerance: float = DEFAULT_TOLERANCE
) -> Comparison:
    """One benchmark's test; `regressed` stays False until `judge` corrects for the others."""
    if tolerance < 0 or not math.isfinite(tolerance):
        raise BenchmarkError(f"tolerance: must be a finite number >= 0, not {tolerance}")
    for side, measurement in (("build", build), ("baseline", baseline)):
        _check(name, side, measurement)
    scale = 1.0 + tolerance
    if isinstance(build, tuple) and isinstance(baseline, tuple):
        scaled = [value * scale for value in baseline]
        result = stats.mannwhitneyu(build, scaled, alternative="greater")
        p_value, method = float(result.pvalue), "mann-whitney"
    else:
        p_value, method = _welch(_summary(build), _summary(baseline), scale), "welch-t"
    ratio = _summary(build).median / _summary(baseline).median
    return Comparison(name=name, ratio=ratio, p_value=p_value, method=method)


def judge(comparisons: Sequence[Comparison], alpha: float = DEFAULT_ALPHA) -> list[Comparison]:
    """The comparisons with `regressed` set by Holm's step-down correction at `alpha`."""
    regressed: set[int] = set()
    ranked = sorted(range(len(comparisons)), key=lambda index: comparisons[index].p_value)
    for rank, index in enumerate(ranked):
        if comparisons[index].p_value > alpha / (len(comparisons) - rank):
            break  # Holm stops at the first p-value above its threshold
        regressed.add(index)
    return [
        dataclasses.replace(comparison, regressed=index in regressed)
        for index, comparison in enumerate(comparisons)
    ]


def _check(name: str, side: str, measurement: Measurement) -> None:
    rounds = measurement.rounds if isinstance(measurement, Summary) else len(measurement)
    if rounds < MIN_ROUNDS:
        raise BenchmarkError(
            f"benchmark {name!r}: the {side} has {rounds} round(s); at least {MIN_ROUNDS} are"
            " needed for a regression test"
        )
    values = (
        (measurement.mean, measurement.median, measurement.stddev)
        if isinstance(measurement, Summary)
        else measurement
    )
    if not all(math.isfinite(value) and value >= 0 for value in values):
        raise BenchmarkError(f"benchmark {name!r}: the {side} has a time that is not >= 0")
    if side == "baseline" and _summary(measurement).median <= 0:  # the ratio divides by it
        raise BenchmarkError(f"benchmark {name!r}: the baseline's times must be > 0")


def _summary(measurement: Measurement) -> Summary:
    return measurement if isinstance(measurement, Summary) else Summary.of(measurement)


def _welch(build: Summary, baseline: Summary, scale: float) -> float:
    if build.stddev == 0 and baseline.stddev == 0:  # no spread: the means say it all
        return 0.0 if build.mean > baseline.mean * scale else 1.0
    result = stats.ttest_ind_from_stats(
        build.mean,
        build.stddev,
        build.rounds,
        baseline.mean * scale,
        baseline.stddev * scale,
        baseline.rounds,
        equal_var=False,
        alternative="greater",
    )
    return float(result.pvalue)
