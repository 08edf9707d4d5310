"""Gauges compared with stable: a sequential sign test on readings taken at the same steps."""

from __future__ import annotations

import random

import pytest

from airollout.core.analysis import gauge_comparison
from airollout.core.analysis.evaluate import evaluate_window, initial_state
from airollout.core.analysis.types import (
    AnalysisSettings,
    MetricCheck,
    Observation,
    Outcome,
    Sample,
)
from airollout.core.judge.rules import RulesJudge
from airollout.core.judge.types import Action, DecisionContext
from airollout.core.resource.kinds import MetricKind

pytestmark = pytest.mark.unit

CPU = AnalysisSettings(
    metrics=(MetricCheck("cpu", MetricKind.GAUGE, compare_baseline=True),), warmup_s=0.0
)


def _window(readings: list[tuple[float | None, float | None]]) -> list[Observation]:
    def sample(value: float | None) -> dict[str, Sample]:
        return {} if value is None else {"cpu": Sample(value=value)}

    return [Observation(5.0 * i, 5.0, sample(c), sample(s)) for i, (c, s) in enumerate(readings)]


def _noisy(rng: random.Random, canary_mean: float, steps: int = 12) -> list[Observation]:
    return _window([(rng.gauss(canary_mean, 0.05), rng.gauss(0.5, 0.05)) for _ in range(steps)])


def _compare_after(windows: list[list[Observation]], settings: AnalysisSettings = CPU) -> Outcome:
    state = initial_state()
    outcome = Outcome.NO_DATA
    for window in windows:
        results, state = evaluate_window(settings, state, 0, window)
        assert results[0].comparison is not None
        outcome = results[0].comparison.outcome
        if outcome is not Outcome.NOT_YET:
            return outcome
    return outcome


def test_a_canary_reading_persistently_higher_fails_the_comparison() -> None:
    rng = random.Random(7)
    assert _compare_after([_noisy(rng, 0.8) for _ in range(4)]) is Outcome.FAIL


def test_a_canary_reading_like_stable_passes_it() -> None:
    rng = random.Random(7)
    assert _compare_after([_noisy(rng, 0.5) for _ in range(4)]) is Outcome.PASS


def test_with_only_a_minimum_lower_is_worse() -> None:
    settings = AnalysisSettings(
        metrics=(MetricCheck("cpu", MetricKind.GAUGE, min=0.0, compare_baseline=True),),
        warmup_s=0.0,
    )
    rng = random.Random(3)
    assert _compare_after([_noisy(rng, 0.2) for _ in range(4)], settings) is Outcome.FAIL
    assert _compare_after([_noisy(rng, 0.8) for _ in range(4)], settings) is Outcome.PASS


def test_only_steps_that_both_versions_read_count() -> None:
    unpaired = _window([(0.9, None), (None, 0.5), (0.9, float("nan"))])
    results, state = evaluate_window(CPU, initial_state(), 0, unpaired)
    assert results[0].comparison is not None
    assert results[0].comparison.outcome is Outcome.NO_DATA
    assert state["metrics"]["cpu"]["compare"]["canary"] == [0.0, 0.0]


def test_the_evidence_carries_over_from_window_to_window() -> None:
    rng = random.Random(11)
    short = [_noisy(rng, 0.8, steps=2) for _ in range(6)]
    first, _ = evaluate_window(CPU, initial_state(), 0, short[0])
    assert first[0].comparison is not None
    assert first[0].comparison.outcome is Outcome.NOT_YET
    assert _compare_after(short) is Outcome.FAIL


def test_the_rules_judge_rolls_back_a_canary_worse_than_stable() -> None:
    rng = random.Random(5)
    judge, state = RulesJudge(), initial_state()
    context = DecisionContext("web", "shop", "v2", 0, 10, 1, 60.0)
    actions = []
    for _ in range(4):
        verdict, state = judge.decide(CPU, state, context, _noisy(rng, 0.8))
        actions.append(verdict.action)
    assert actions[-1] is Action.ROLLBACK
    assert Action.PROCEED not in actions


def test_a_canary_no_worse_than_stable_rarely_fails_however_often_it_is_read() -> None:
    """Anytime-valid: under the null, reading after every window keeps the false alarms
    near alpha (Ville's inequality bounds them by it)."""
    rng = random.Random(2026)
    runs, false_alarms = 300, 0
    for _ in range(runs):
        state = gauge_comparison.start()
        for _ in range(20):
            pairs = [(rng.gauss(0.5, 0.05), rng.gauss(0.5, 0.05)) for _ in range(5)]
            state = gauge_comparison.fold(state, 0.0, pairs, True)
            outcome = gauge_comparison.result(state, CPU, "cpu", True).outcome
            if outcome is Outcome.FAIL:
                false_alarms += 1
                break
    assert false_alarms <= runs * CPU.alpha * 3
