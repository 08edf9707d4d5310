"""The benchmarks signal: a regression test per benchmark of this build against the baseline.

Two formats, told apart by the type of `benchmarks`:
- pytest-benchmark JSON (`--benchmark-json`): a list of `{fullname, stats}`; with
  `--benchmark-save-data` `stats.data` holds every round's time and the test uses them,
  otherwise it uses `stats.mean`, `stddev`, `rounds` and `median`;
- plain JSON of samples: `{"benchmarks": {"NAME": [seconds, ...], ...}}`.
The statistic is `airollout.core.promotion.benchmark_test`. Benchmarks in only one of the
two reports are named in the notes and not tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airollout.adapters.reports.common import Reading, ReportError, json_object
from airollout.core.promotion.benchmark_test import (
    BenchmarkError,
    Comparison,
    Measurement,
    Summary,
    compare,
    judge,
)

FORMAT = "pytest-benchmark JSON or {benchmarks: {name: [seconds, ...]}}"
SHOWN_NAMES = 10


def read_benchmarks(build: Path, baseline: Path, tolerance: float) -> Reading:
    ours, theirs = read_measurements(build), read_measurements(baseline)
    shared = [name for name in ours if name in theirs]
    if not shared:
        raise ReportError(f"{build}: has no benchmark that {baseline} also has")
    try:
        comparisons = judge([compare(n, ours[n], theirs[n], tolerance) for n in shared])
    except BenchmarkError as error:
        raise ReportError(f"{build} against {baseline}: {error}") from None
    regressed = [c for c in comparisons if c.regressed]
    worst = max(comparisons, key=lambda c: c.ratio)
    signal = {
        "regressions": len(regressed),
        "worst_ratio": round(worst.ratio, 4),
        "names": [c.name for c in regressed][:SHOWN_NAMES],
    }
    return Reading({"benchmarks": signal}, _notes(comparisons, ours, theirs, tolerance))


def read_measurements(path: Path) -> dict[str, Measurement]:
    data = json_object(path, FORMAT)
    benchmarks = data.get("benchmarks")
    if isinstance(benchmarks, list):
        return {
            _name(path, entry, i): _pytest_benchmark(path, entry, i)
            for i, entry in enumerate(benchmarks)
        }
    if isinstance(benchmarks, Mapping):
        return {
            name: _samples(path, f"benchmarks.{name}", value) for name, value in benchmarks.items()
        }
    raise ReportError(f"{path}: is not {FORMAT} (no `benchmarks` list or object)")


def _name(path: Path, entry: Any, index: int) -> str:
    name = entry.get("fullname") or entry.get("name") if isinstance(entry, Mapping) else None
    if not isinstance(name, str):
        raise ReportError(f"{path}: benchmarks[{index}] has no fullname or name")
    return name


def _pytest_benchmark(path: Path, entry: Mapping[str, Any], index: int) -> Measurement:
    where = f"benchmarks[{index}].stats"
    stats = entry.get("stats")
    if not isinstance(stats, Mapping):
        raise ReportError(f"{path}: {where} is missing")
    if "data" in stats:
        return _samples(path, f"{where}.data", stats["data"])
    fields = {}
    for field in ("mean", "stddev", "median", "rounds"):
        value = stats.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ReportError(f"{path}: {where}.{field} is missing or not a number")
        fields[field] = value
    return Summary(
        mean=float(fields["mean"]),
        stddev=float(fields["stddev"]),
        rounds=int(fields["rounds"]),
        median=float(fields["median"]),
    )


def _samples(path: Path, where: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list) or not all(
        isinstance(item, int | float) and not isinstance(item, bool) for item in value
    ):
        raise ReportError(f"{path}: {where} must be a list of times in seconds")
    return tuple(float(item) for item in value)


def _notes(
    comparisons: list[Comparison],
    ours: Mapping[str, Measurement],
    theirs: Mapping[str, Measurement],
    tolerance: float,
) -> tuple[str, ...]:
    regressed = [c for c in comparisons if c.regressed]
    notes = [
        f"benchmarks: {len(comparisons)} compared, {len(regressed)} slower than the baseline"
        f" by more than {tolerance:.0%} (one-sided test, Holm-corrected)"
    ]
    notes += [
        f"benchmark {c.name} regressed: median x{c.ratio:.3f}, p={c.p_value:.2g} ({c.method})"
        for c in regressed[:SHOWN_NAMES]
    ]
    only_build = [name for name in ours if name not in theirs]
    only_baseline = [name for name in theirs if name not in ours]
    if only_build:
        notes.append(f"benchmarks new in this build, not tested: {', '.join(only_build)}")
    if only_baseline:
        notes.append(f"benchmarks missing from this build: {', '.join(only_baseline)}")
    return tuple(notes)
