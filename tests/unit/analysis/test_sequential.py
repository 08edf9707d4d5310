"""The mixture e-processes: valid under their nulls however often they are read, and powerful."""

from __future__ import annotations

import math

import numpy as np
import pytest

from airollout.core.analysis import sequential

pytestmark = pytest.mark.unit

ALPHA = 0.05
RUNS = 1000
LOOKS = 25


def _ever_rejects_rate(rng: np.random.Generator, true_rate: float, bound: float) -> float:
    """Share of runs in which the breach test ever reaches 1/ALPHA over LOOKS looks."""
    rejected = 0
    for _ in range(RUNS):
        state = sequential.BREACH.start()
        for _ in range(LOOKS):
            exposure = float(rng.integers(20, 400))
            events = float(rng.poisson(exposure * true_rate))
            state = sequential.fold_rate(state, sequential.BREACH, events, exposure, bound)
            if sequential.evalue(state) >= 1 / ALPHA:
                rejected += 1
                break
    return rejected / RUNS


def _ever_rejects_ratio(
    rng: np.random.Generator, ratio: float, null_ratio: float, base_rate: float
) -> float:
    """Share of runs in which the "canary worse" test ever rejects, traffic shares varying."""
    rejected = 0
    for _ in range(RUNS):
        state = sequential.WORSE.start()
        for _ in range(LOOKS):
            share = float(rng.choice([0.1, 0.25, 0.5]))
            canary_n, stable_n = 2000 * share, 2000 * (1 - share)
            canary_x = float(rng.poisson(canary_n * base_rate * ratio))
            stable_x = float(rng.poisson(stable_n * base_rate))
            state = sequential.fold_ratio(
                state, sequential.WORSE, null_ratio, (canary_x, canary_n), (stable_x, stable_n)
            )
            if sequential.evalue(state) >= 1 / ALPHA:
                rejected += 1
                break
    return rejected / RUNS


def test_no_data_yet_is_no_evidence() -> None:
    assert sequential.evalue(sequential.BREACH.start()) == pytest.approx(1.0)


def test_breach_test_false_alarms_stay_under_alpha_at_the_bound_with_many_looks() -> None:
    rate = _ever_rejects_rate(np.random.default_rng(7), true_rate=0.01, bound=0.01)
    assert rate <= ALPHA + 0.02


def test_breach_test_rejects_a_rate_at_three_times_the_bound() -> None:
    rate = _ever_rejects_rate(np.random.default_rng(8), true_rate=0.03, bound=0.01)
    assert rate >= 0.95


def test_ratio_test_false_alarms_stay_under_alpha_for_identical_versions() -> None:
    rate = _ever_rejects_ratio(np.random.default_rng(9), ratio=1.0, null_ratio=1.0, base_rate=0.01)
    assert rate <= ALPHA + 0.02


def test_ratio_test_false_alarms_stay_under_alpha_at_the_tolerance_edge() -> None:
    rate = _ever_rejects_ratio(np.random.default_rng(10), ratio=1.1, null_ratio=1.1, base_rate=0.01)
    assert rate <= ALPHA + 0.02


def test_ratio_test_rejects_a_tripled_canary_rate() -> None:
    rate = _ever_rejects_ratio(np.random.default_rng(11), ratio=3.0, null_ratio=1.1, base_rate=0.01)
    assert rate >= 0.95


def test_quiet_traffic_lowers_the_evidence_of_a_breach() -> None:
    state = sequential.fold_rate(sequential.BREACH.start(), sequential.BREACH, 0.0, 1000.0, 0.01)
    assert sequential.evalue(state) < 0.1


def test_a_step_without_exposure_or_events_leaves_the_ratio_test_unchanged() -> None:
    start = sequential.WORSE.start()
    null = 1.1
    assert sequential.fold_ratio(start, sequential.WORSE, null, (0.0, 0.0), (5.0, 100.0)) == start
    assert sequential.fold_ratio(start, sequential.WORSE, null, (0.0, 50.0), (0.0, 100.0)) == start


def test_ratio_test_uses_each_steps_exposure_ratio() -> None:
    # Canary errors in proportion to its share are what the null expects; the same errors
    # from a much smaller canary share are evidence it is worse.
    state = sequential.WORSE.start()
    proportional = sequential.fold_ratio(state, sequential.WORSE, 1.0, (50.0, 500.0), (50.0, 500.0))
    concentrated = sequential.fold_ratio(state, sequential.WORSE, 1.0, (50.0, 100.0), (50.0, 900.0))
    assert sequential.evalue(proportional) < 1.0 < sequential.evalue(concentrated)


def test_evalue_is_finite_even_for_overwhelming_evidence() -> None:
    state = sequential.fold_rate(sequential.BREACH.start(), sequential.BREACH, 1e6, 1e6, 0.001)
    assert math.isfinite(sequential.evalue(state))


def test_evalue_is_the_mean_likelihood_ratio_of_the_grid() -> None:
    assert sequential.evalue([math.log(2.0), math.log(4.0), 0.0]) == pytest.approx(7.0 / 3.0)


def test_evalue_past_the_float_range_is_the_cap_and_far_below_it_is_zero() -> None:
    assert sequential.evalue([800.0, 0.0]) == sequential.EVALUE_CAP
    assert sequential.evalue([700.5, 700.5]) == sequential.EVALUE_CAP
    assert sequential.evalue([-800.0, -900.0]) == 0.0
