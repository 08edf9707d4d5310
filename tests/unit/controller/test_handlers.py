"""Which AIRollout owns a Deployment when several target it."""

from __future__ import annotations

import pytest

from airollout.controller.handlers import owner_lookup, phase_counts

pytestmark = pytest.mark.unit


def test_the_oldest_rollout_that_is_not_over_owns_the_target() -> None:
    index = {
        ("shop", "web"): [
            ("2026-11-25T10:00:00Z", "web-v1", "Succeeded"),
            ("2026-11-25T12:00:00Z", "web-v3", "Pending"),
            ("2026-11-25T11:00:00Z", "web-v2", "Progressing"),
        ]
    }
    owner_of = owner_lookup(index)
    assert owner_of("shop", "web") == "web-v2"
    assert owner_of("shop", "cart") is None
    assert owner_of("other", "web") is None


def test_a_target_whose_rollouts_are_all_over_has_no_owner() -> None:
    index = {("shop", "web"): [("t", "web-v1", "RolledBack"), ("t", "web-v2", "Failed")]}
    assert owner_lookup(index)("shop", "web") is None


def test_rollouts_are_counted_by_phase_for_the_metrics_endpoint() -> None:
    index = {
        ("a", "web"): [("t", "x", "Succeeded"), ("t", "y", "Progressing")],
        ("b", "web"): [("t", "z", "Progressing")],
    }
    assert phase_counts(index) == {"Succeeded": 1, "Progressing": 2}


def test_a_window_ending_before_the_next_tick_is_waited_for_until_just_after_its_end() -> None:
    from airollout.controller.handlers import WINDOW_END_MARGIN_S, seconds_to_window_end

    now = 1_800_000_000.0
    body = {"status": {"window": {"end": "2027-01-15T08:00:00.400000Z", "judging": False}}}
    end = 1_800_000_000.0 + 0.4  # 2027-01-15T08:00:00Z is 1.8e9 s after the epoch
    assert seconds_to_window_end(body, now, 1.0) == pytest.approx(end - now + WINDOW_END_MARGIN_S)
    assert seconds_to_window_end(body, now - 5.0, 1.0) == 0.0, "far off: the next tick comes"
    assert seconds_to_window_end(body, now + 1.0, 1.0) == 0.0, "already over: judge now"
    judging = {"status": {"window": {**body["status"]["window"], "judging": True}}}
    assert seconds_to_window_end(judging, now, 1.0) == 0.0
    assert seconds_to_window_end({"status": {}}, now, 1.0) == 0.0
