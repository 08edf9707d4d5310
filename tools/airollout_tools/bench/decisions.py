"""The decision-quality benchmark: every scenario through every judge, scored and summarised."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airollout.core.analysis.types import AnalysisSettings, Observation
from airollout.core.judge.types import Action, DecisionContext, Judge
from airollout_tools.bench.judges import JudgeFactory, is_compiled
from airollout_tools.bench.scoring import ScenarioScore, score_scenario
from airollout_tools.sim.model import SliceStart
from airollout_tools.sim.scenario import Scenario
from airollout_tools.sim.simulator import (
    ScenarioResult,
    analysis_settings,
    run_scenario,
    simulate_window,
)

# Throughput is timed on the same windows for every judge, until both floors are passed.
# Three seconds of passes, not one: shared machines (this project's among them) go through
# stretches of a few seconds in which every judge runs at half speed, and the best pass should
# show the judge's own cost, not its neighbours'.
THROUGHPUT_MIN_SECONDS = 3.0
THROUGHPUT_MIN_DECISIONS = 200
THROUGHPUT_PASS_SECONDS = 0.2


# One scenario as the throughput timing replays it: its settings and each slice's first window.
_TimedScenario = tuple[AnalysisSettings, list[tuple[DecisionContext, tuple[Observation, ...]]]]


@dataclass(frozen=True, slots=True)
class JudgeSummary:
    judge: str
    right: int
    false_rollbacks: int  # rollback where proceed was right
    missed_regressions: int  # proceed where rollback was right
    harm: int
    detect_s_median: float | None  # over the regressions every rolling-back judge rolled back
    decisions_per_s: float
    results: tuple[ScenarioResult, ...]
    compiled: bool = False  # whether the judge ran from a compiled extension
    strict_right: int = 0  # outcomes equal to `expect`, not merely accepted
    needless_holds: int = 0  # hold verdicts in scenarios that expect proceed
    windows_to_promote: float | None = None  # median, where proceed was expected and reached
    excess_harm: float = 0.0  # canary failures beyond stable's rate, where rollback was right
    scores: Mapping[str, ScenarioScore] = field(default_factory=dict)

    @property
    def outcomes(self) -> dict[str, Action]:
        return {result.scenario: result.outcome for result in self.results}


@dataclass(frozen=True, slots=True)
class BenchmarkReport:
    scenarios: tuple[Scenario, ...]
    judges: tuple[JudgeSummary, ...]


def run_benchmark(
    scenarios: Sequence[Scenario],
    judges: Mapping[str, JudgeFactory],
    throughput_seconds: float = THROUGHPUT_MIN_SECONDS,
) -> BenchmarkReport:
    """Replay every scenario through a fresh instance of each judge, then time its decisions."""
    replays = {
        name: tuple(run_scenario(scenario, factory()) for scenario in scenarios)
        for name, factory in judges.items()
    }
    common = rolled_back_by_all(scenarios, replays.values())
    summaries = [
        summarise(
            name,
            scenarios,
            results,
            decisions_per_second(judges[name], scenarios, throughput_seconds),
            compiled=is_compiled(judges[name]),
            detect_over=common,
        )
        for name, results in replays.items()
    ]
    return BenchmarkReport(tuple(scenarios), tuple(summaries))


def rolled_back_by_all(
    scenarios: Sequence[Scenario], replays: Iterable[Sequence[ScenarioResult]]
) -> frozenset[str]:
    """Regressions every judge rolled back, among judges that roll any back.

    Detect time is compared on one set of scenarios; a judge that never rolls back (the
    always-hold floor) would otherwise leave the set empty.
    """
    regressions = {scenario.name for scenario in scenarios if scenario.expect is Action.ROLLBACK}
    rolled_back = [
        {result.scenario for result in results if result.outcome is Action.ROLLBACK} & regressions
        for results in replays
    ]
    deciding = [names for names in rolled_back if names]
    return frozenset(set.intersection(*deciding)) if deciding else frozenset()


def summarise(
    name: str,
    scenarios: Sequence[Scenario],
    results: Sequence[ScenarioResult],
    decisions_per_s: float,
    *,
    compiled: bool = False,
    detect_over: frozenset[str] | None = None,
) -> JudgeSummary:
    """One judge's row; detect time over `detect_over`, or over its own rollbacks if None."""
    by_name = {scenario.name: scenario for scenario in scenarios}
    scores = {
        result.scenario: score_scenario(by_name[result.scenario], result) for result in results
    }
    expected = {scenario.name: scenario.expect for scenario in scenarios}
    detect_times = [
        result.detect_s
        for result in results
        if expected[result.scenario] is Action.ROLLBACK
        and result.detect_s is not None
        and (detect_over is None or result.scenario in detect_over)
    ]
    promote_windows = [
        score.windows
        for name, score in scores.items()
        if expected[name] is Action.PROCEED and score.outcome is Action.PROCEED
    ]
    return JudgeSummary(
        judge=name,
        right=sum(result.right for result in results),
        false_rollbacks=sum(
            result.outcome is Action.ROLLBACK and expected[result.scenario] is Action.PROCEED
            for result in results
        ),
        missed_regressions=sum(
            result.outcome is Action.PROCEED and expected[result.scenario] is Action.ROLLBACK
            for result in results
        ),
        harm=sum(result.harm for result in results),
        detect_s_median=statistics.median(detect_times) if detect_times else None,
        decisions_per_s=decisions_per_s,
        results=tuple(results),
        compiled=compiled,
        strict_right=sum(score.strict_right for score in scores.values()),
        needless_holds=sum(score.needless_holds for score in scores.values()),
        windows_to_promote=statistics.median(promote_windows) if promote_windows else None,
        excess_harm=sum(score.excess_harm for score in scores.values()),
        scores=scores,
    )


def decisions_per_second(
    factory: JudgeFactory, scenarios: Sequence[Scenario], min_seconds: float
) -> float:
    """Decisions per second on one core, over the first window of every slice of every scenario.

    The windows and settings are made before the clock starts, so only the judge's own work
    is timed; each scenario starts from the judge's initial state and carries it across its
    slices.
    The clock is `time.thread_time()`, the CPU time of the measuring thread: "on one core"
    literally, so time the thread spends waiting for a core that other processes hold is not
    charged to the judge. The corpus is timed in passes of at least THROUGHPUT_PASS_SECONDS
    of that CPU time and the best pass counts, and the garbage collector is paused while
    timing, both as timeit does, so other load on a shared machine and garbage left by the
    scenario runs are not charged to the judge either.
    """
    corpus = [(analysis_settings(scenario), _slice_windows(scenario)) for scenario in scenarios]
    if not corpus:
        return 0.0
    judge = factory()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _best_pass_rate(judge, corpus, min_seconds)
    finally:
        if gc_was_enabled:
            gc.enable()


def _best_pass_rate(
    judge: Judge,
    corpus: Sequence[_TimedScenario],
    min_seconds: float,
) -> float:
    best, total_s, total_decisions = 0.0, 0.0, 0
    while total_s < min_seconds or total_decisions < THROUGHPUT_MIN_DECISIONS:
        decisions, started = 0, time.thread_time()
        while decisions == 0 or time.thread_time() - started < THROUGHPUT_PASS_SECONDS:
            decisions += _decide_corpus(judge, corpus)
        spent_s = time.thread_time() - started
        best = max(best, decisions / spent_s)
        total_s += spent_s
        total_decisions += decisions
    return best


def _decide_corpus(
    judge: Judge,
    corpus: Sequence[_TimedScenario],
) -> int:
    decisions = 0
    for settings, windows in corpus:
        state: Mapping[str, Any] = judge.initial_state(settings)
        for context, window in windows:
            _, state = judge.decide(settings, state, context, window)
            decisions += 1
    return decisions


def _slice_windows(scenario: Scenario) -> list[tuple[DecisionContext, tuple[Observation, ...]]]:
    history: list[SliceStart] = []
    windows = []
    for index, weight in enumerate(scenario.slices):
        start_s = index * scenario.window_s
        history.append(SliceStart(start_s, weight))
        window = simulate_window(scenario, history, 1, start_s).observations
        context = DecisionContext(
            rollout=scenario.name,
            namespace="bench",
            revision="throughput",
            slice_index=index,
            weight=weight,
            window_index=1,
            elapsed_s=start_s + scenario.window_s,
        )
        windows.append((context, window))
    return windows


def report_json(report: BenchmarkReport) -> dict[str, Any]:
    """The benchmark's machine-readable form: exactly the documented schema."""
    return {
        "scenarios": len(report.scenarios),
        "judges": {summary.judge: _judge_json(summary) for summary in report.judges},
    }


def _judge_json(summary: JudgeSummary) -> dict[str, Any]:
    return {
        "right": summary.right,
        "strict_right": summary.strict_right,
        "false_rollbacks": summary.false_rollbacks,
        "missed_regressions": summary.missed_regressions,
        "needless_holds": summary.needless_holds,
        "windows_to_promote": summary.windows_to_promote,
        "harm": summary.harm,
        "excess_harm": round(summary.excess_harm, 1),
        "detect_s_median": summary.detect_s_median,
        "decisions_per_s": summary.decisions_per_s,
        "outcomes": {name: action.value for name, action in summary.outcomes.items()},
        "scenarios": {
            name: {
                "outcome": score.outcome.value,
                "right": score.right,
                "strict_right": score.strict_right,
                "windows": score.windows,
                "needless_holds": score.needless_holds,
                "harm": score.harm,
                "excess_harm": round(score.excess_harm, 1),
                "detect_s": score.detect_s,
            }
            for name, score in summary.scores.items()
        },
    }


def render_table(report: BenchmarkReport) -> str:
    """A row per judge, then the outcome of every scenario per judge (* marks a wrong one)."""
    total = len(report.scenarios)
    header = (
        "judge",
        "right",
        "strict right",
        "false rollbacks",
        "missed regressions",
        "needless holds",
        "windows to promote",
        "harm",
        "excess harm",
        "detect s (median)",
        "decisions/s",
    )
    rows = [
        (
            summary.judge,
            f"{summary.right}/{total}",
            f"{summary.strict_right}/{total}",
            str(summary.false_rollbacks),
            str(summary.missed_regressions),
            str(summary.needless_holds),
            _optional(summary.windows_to_promote),
            str(summary.harm),
            f"{summary.excess_harm:.0f}",
            _optional(summary.detect_s_median),
            f"{summary.decisions_per_s:,.0f}",
        )
        for summary in report.judges
    ]
    matrix_header = ("scenario", "expect", *(summary.judge for summary in report.judges))
    matrix = [
        (
            scenario.name,
            "/".join([scenario.expect.value, *(action.value for action in scenario.accept)]),
            *(_cell(scenario, summary) for summary in report.judges),
        )
        for scenario in report.scenarios
    ]
    return "\n\n".join(
        (
            _columns(header, rows),
            _detect_note(report),
            _throughput_note(report),
            _columns(matrix_header, matrix),
        )
    )


def _optional(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _detect_note(report: BenchmarkReport) -> str:
    common = rolled_back_by_all(report.scenarios, (s.results for s in report.judges))
    shown = ", ".join(sorted(common)) or "none"
    return f"detect s: median over the regressions every rolling-back judge rolled back ({shown})"


def _throughput_note(report: BenchmarkReport) -> str:
    """How decisions/s was measured, and which judges ran compiled."""
    builds = {
        "compiled": [summary.judge for summary in report.judges if summary.compiled],
        "interpreted": [summary.judge for summary in report.judges if not summary.compiled],
    }
    shown = "; ".join(f"{build}: {', '.join(names)}" for build, names in builds.items() if names)
    return f"decisions/s: CPU time of one thread, best {THROUGHPUT_PASS_SECONDS:g} s pass ({shown})"


def _cell(scenario: Scenario, summary: JudgeSummary) -> str:
    outcome = summary.outcomes[scenario.name]
    return outcome.value if scenario.is_right(outcome) else f"{outcome.value}*"


def _columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = [header, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
