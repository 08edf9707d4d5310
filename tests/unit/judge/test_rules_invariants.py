"""Safety invariants of the rules judge, over arbitrary (also broken) observations."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airollout.core.analysis.types import Histogram, Observation, Outcome, Sample
from airollout.core.judge.rules import RulesJudge
from airollout.core.judge.types import Action, DecisionContext, Verdict
from tests.support.rules_traffic import EDGES, SETTINGS

pytestmark = pytest.mark.unit

JUDGE = RulesJudge()
counts = st.one_of(st.integers(0, 2000).map(float), st.just(math.nan), st.none())


@st.composite
def samples(draw: st.DrawFn) -> dict[str, Sample]:
    requests = draw(counts)
    errors = draw(st.one_of(st.none(), st.just(math.nan), st.integers(0, 300).map(float)))
    buckets = tuple(draw(st.lists(st.integers(0, 200).map(float), min_size=11, max_size=11)))
    histogram = draw(st.one_of(st.none(), st.just(Histogram(EDGES, buckets))))
    present = draw(st.sets(st.sampled_from(["errors", "latency"])))
    chosen = {
        "errors": Sample(requests=requests, errors=errors),
        "latency": Sample(requests=requests, histogram=histogram),
    }
    return {name: sample for name, sample in chosen.items() if name in present}


@st.composite
def windows(draw: st.DrawFn) -> list[tuple[Observation, ...]]:
    count = draw(st.integers(1, 4))
    return [
        tuple(
            Observation(float(start), 5.0, draw(samples()), draw(samples()))
            for start in draw(st.lists(st.integers(0, 60), min_size=0, max_size=4))
        )
        for _ in range(count)
    ]


def _replay(
    steps: list[tuple[Observation, ...]], slice_index: int
) -> tuple[Verdict, dict[str, Any]]:
    state: dict[str, Any] = JUDGE.initial_state(SETTINGS)
    for index, observations in enumerate(steps, start=1):
        context = DecisionContext("r", "ns", "v", slice_index, 25, index, 0.0)
        verdict, state = JUDGE.decide(SETTINGS, state, context, observations)
    return verdict, state


def _outcome(test: Any) -> Outcome | None:
    return None if test is None else test.outcome


@settings(max_examples=80, deadline=None)
@given(windows(), st.integers(0, 3))
def test_no_proceed_past_a_breached_bound_or_missing_data(
    steps: list[tuple[Observation, ...]], slice_index: int
) -> None:
    verdict, _ = _replay(steps, slice_index)
    for metric in verdict.metrics:
        bound = _outcome(metric.bound)
        if bound in (Outcome.FAIL, Outcome.NO_DATA, Outcome.NOT_YET):
            assert verdict.action is not Action.PROCEED
        if _outcome(metric.comparison) is Outcome.FAIL:
            assert verdict.action is Action.ROLLBACK


@settings(max_examples=80, deadline=None)
@given(windows())
def test_a_canary_breach_rolls_back_unless_stable_shares_it(
    steps: list[tuple[Observation, ...]],
) -> None:
    verdict, _ = _replay(steps, 0)
    for metric in verdict.metrics:
        if _outcome(metric.bound) is not Outcome.FAIL:
            continue
        shared = _outcome(metric.stable_bound) is Outcome.FAIL
        if not shared or _outcome(metric.comparison) is Outcome.FAIL:
            assert verdict.action is Action.ROLLBACK
        else:
            assert verdict.action is not Action.PROCEED


@settings(max_examples=40, deadline=None)
@given(windows())
def test_a_window_without_canary_data_never_proceeds(
    steps: list[tuple[Observation, ...]],
) -> None:
    blank = tuple(Observation(o.start_s, o.duration_s, {}, o.stable) for o in steps[-1])
    verdict, _ = _replay([*steps[:-1], blank], 0)
    assert verdict.action is not Action.PROCEED
