"""split_replicas: the canary's pod share follows the weight, and neither version is starved."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airollout.core.rollout.replica_split import split_replicas

pytestmark = pytest.mark.unit

totals = st.integers(min_value=0, max_value=500)
inner_weights = st.integers(min_value=1, max_value=99)


@pytest.mark.parametrize(
    ("total", "weight", "expected"),
    [
        (10, 10, (9, 1)),
        (10, 25, (8, 2)),  # 2.5 pods: the tie goes to stable
        (10, 50, (5, 5)),
        (10, 26, (7, 3)),  # 2.6 pods rounds up
        (10, 1, (9, 1)),  # 0.1 pods still gets one canary pod
        (10, 99, (1, 9)),  # 9.9 pods still leaves one stable pod
        (3, 50, (2, 1)),  # 1.5: tie to stable
        (1, 50, (1, 1)),  # the one case with a pod more than asked for
        (2, 10, (1, 1)),
    ],
)
def test_examples_from_the_documented_rules(
    total: int, weight: int, expected: tuple[int, int]
) -> None:
    assert split_replicas(total, weight) == expected


@given(totals)
def test_weight_zero_keeps_everything_on_stable(total: int) -> None:
    assert split_replicas(total, 0) == (total, 0)


@given(totals)
def test_weight_hundred_moves_everything_to_the_canary(total: int) -> None:
    assert split_replicas(total, 100) == (0, total)


@given(inner_weights)
def test_a_deployment_scaled_to_zero_stays_at_zero(weight: int) -> None:
    assert split_replicas(0, weight) == (0, 0)


@settings(max_examples=300)
@given(st.integers(min_value=1, max_value=500), inner_weights)
def test_between_the_ends_both_versions_run_at_least_one_pod(total: int, weight: int) -> None:
    stable, canary = split_replicas(total, weight)
    assert stable >= 1
    assert canary >= 1


@settings(max_examples=300)
@given(st.integers(min_value=2, max_value=500), inner_weights)
def test_pods_add_up_to_the_total_from_two_replicas_on(total: int, weight: int) -> None:
    assert sum(split_replicas(total, weight)) == total


@settings(max_examples=300)
@given(st.integers(min_value=2, max_value=500), inner_weights)
def test_canary_is_the_nearest_whole_pod_unless_a_version_would_be_empty(
    total: int, weight: int
) -> None:
    _, canary = split_replicas(total, weight)
    exact = total * weight / 100
    if 1 <= round(exact) <= total - 1:
        # within half a pod, and a tie never rounds towards the canary
        assert abs(canary - exact) <= 0.5
        assert canary - exact != 0.5
    else:
        assert canary in (1, total - 1)


@settings(max_examples=200)
@given(totals, inner_weights, inner_weights)
def test_more_weight_never_gives_the_canary_fewer_pods(total: int, low: int, high: int) -> None:
    low, high = sorted((low, high))
    assert split_replicas(total, low)[1] <= split_replicas(total, high)[1]


@pytest.mark.parametrize(("total", "weight"), [(-1, 10), (10, -1), (10, 101)])
def test_impossible_inputs_are_refused(total: int, weight: int) -> None:
    with pytest.raises(ValueError, match=r"replicas|weight"):
        split_replicas(total, weight)
