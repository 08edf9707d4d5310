"""Leader election's decisions (pure): who may take the Lease, and when a leader steps down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from airollout.controller.health import HealthState
from airollout.core.lease import (
    Action,
    LeaseRecord,
    check_timings,
    decide,
    expired,
    lost,
    released,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def held_by(holder: str, renewed: datetime, transitions: int = 3) -> LeaseRecord:
    return LeaseRecord(holder, 15, T0 - timedelta(minutes=5), renewed, transitions)


def test_no_lease_yet_is_created_holding_it() -> None:
    decision = decide(None, "me", T0, 15)
    assert decision.action is Action.CREATE
    assert decision.leading
    assert decision.record == LeaseRecord("me", 15, T0, T0, 0)


def test_a_live_lease_of_another_is_waited_for_and_nothing_is_written() -> None:
    current = held_by("other", renewed=T0 - timedelta(seconds=14.9))
    decision = decide(current, "me", T0, 15)
    assert decision.action is Action.WAIT
    assert not decision.leading
    assert decision.record is None


def test_a_lease_past_its_holders_renew_time_plus_duration_is_taken_with_one_more_transition() -> (
    None
):
    current = held_by("other", renewed=T0 - timedelta(seconds=15))
    decision = decide(current, "me", T0, 15)
    assert decision.action is Action.TAKE
    assert decision.record == LeaseRecord("me", 15, T0, T0, 4)


def test_expiry_uses_the_duration_written_in_the_lease_not_mine() -> None:
    current = LeaseRecord("other", 60, T0, T0 - timedelta(seconds=30), 1)
    assert decide(current, "me", T0, 4).action is Action.WAIT
    assert decide(current, "me", T0 + timedelta(seconds=30), 4).action is Action.TAKE


def test_my_own_lease_is_renewed_keeping_acquire_time_and_transitions() -> None:
    current = held_by("me", renewed=T0 - timedelta(seconds=2), transitions=7)
    decision = decide(current, "me", T0, 15)
    assert decision.action is Action.RENEW
    assert decision.record == LeaseRecord("me", 15, current.acquired, T0, 7)


def test_a_released_lease_is_free_at_once_and_taken_by_the_next_candidate() -> None:
    mine = held_by("me", renewed=T0 - timedelta(seconds=1))
    given_up = released(mine, "me", T0)
    assert given_up is not None
    assert given_up.holder == ""
    assert given_up.transitions == mine.transitions
    assert expired(given_up, T0)
    decision = decide(given_up, "standby", T0 + timedelta(milliseconds=1), 15)
    assert decision.action is Action.TAKE
    assert decision.record is not None
    assert decision.record.holder == "standby"


def test_a_lease_held_by_another_is_not_released_by_me() -> None:
    assert released(held_by("other", renewed=T0), "me", T0) is None


def test_a_leader_steps_down_once_the_renew_deadline_has_passed_since_its_last_renewal() -> None:
    assert not lost(last_renewed=100.0, now=110.0, renew_deadline_seconds=10.0)
    assert lost(last_renewed=100.0, now=110.01, renew_deadline_seconds=10.0)


@pytest.mark.parametrize(
    ("lease", "renew", "retry"), [(15, 15, 2), (15, 10, 10), (4, 3, 0), (10, 15, 2)]
)
def test_timings_that_would_let_two_leaders_overlap_are_refused_naming_the_flags(
    lease: float, renew: float, retry: float
) -> None:
    with pytest.raises(ValueError, match="--leader-elect-renew-deadline"):
        check_timings(lease, renew, retry)
    check_timings(15, 10, 2)


def test_ready_means_leading_with_watches_or_standing_by_with_a_fresh_lease_read() -> None:
    state = HealthState(stall_seconds=10, stale_seconds=15, beat=100.0, electing=True)
    assert state.healthy(105.0)
    assert not state.ready(105.0), "no Lease read yet"
    state.lease_seen = 101.0
    assert state.ready(105.0), "standby with a live Lease loop"
    assert not state.ready(116.5), "the Lease loop has not read for longer than the lease"
    state.leading, state.lease_seen = True, None
    assert not state.ready(105.0), "leader whose kopf watches have not started"
    state.watching = True
    assert state.ready(105.0)
    assert not state.healthy(110.5), "the loop has stalled"
    assert not state.ready(110.5)


def test_without_leader_election_ready_follows_kopfs_watches() -> None:
    state = HealthState(beat=100.0)
    assert not state.ready(100.0)
    state.watching = True
    assert state.ready(100.0)
    assert state.describe(100.0) == "leader, healthy=True, ready=True"
