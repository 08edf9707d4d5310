"""Leader election's decisions, without I/O: given the Lease as read, who I am and the time,
what do I write (if anything)? The same rules as client-go's leaderelection.

- No Lease yet: create it, holding it.
- I hold it: renew (a new renewTime).
- Someone else holds it and their renewTime + leaseDurationSeconds has not passed: wait.
- Otherwise (expired, or released: no holder): take it, counting one more transition.

A standby therefore writes nothing until the lease is free; every write is an update with
the resourceVersion it read, so of two standbys racing for one expired lease one wins.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LeaseRecord:
    """The spec of a coordination.k8s.io/v1 Lease, as leader election uses it."""

    holder: str = ""
    duration_seconds: int = 15
    acquired: datetime | None = None
    renewed: datetime | None = None
    transitions: int = 0


class Action(enum.Enum):
    CREATE = "create"  # no Lease exists: create it holding it
    RENEW = "renew"  # mine: write a fresh renewTime
    TAKE = "take"  # expired or released: update it to name me
    WAIT = "wait"  # someone else holds a live lease: write nothing


@dataclass(frozen=True)
class Decision:
    action: Action
    record: LeaseRecord | None  # what to write; None when waiting

    @property
    def leading(self) -> bool:
        """Whether the write, once accepted, makes (or keeps) me the leader."""
        return self.action is not Action.WAIT


def expired(record: LeaseRecord, now: datetime) -> bool:
    """A lease with no holder (released) or not renewed within its duration is free."""
    if not record.holder or record.renewed is None:
        return True
    return now >= record.renewed + timedelta(seconds=record.duration_seconds)


def decide(current: LeaseRecord | None, me: str, now: datetime, duration_seconds: int) -> Decision:
    """What to do about the Lease `current` (None: it does not exist) at `now`."""
    mine = LeaseRecord(me, duration_seconds, now, now, 0)
    if current is None:
        return Decision(Action.CREATE, mine)
    if current.holder == me:
        renewed = replace(current, duration_seconds=duration_seconds, renewed=now)
        return Decision(Action.RENEW, renewed)
    if not expired(current, now):
        return Decision(Action.WAIT, None)
    return Decision(Action.TAKE, replace(mine, transitions=current.transitions + 1))


def released(current: LeaseRecord, me: str, now: datetime) -> LeaseRecord | None:
    """The record that gives the lease up on a clean shutdown, so a standby takes it at its
    next retry rather than after the lease duration; None when it is not mine to give."""
    if current.holder != me:
        return None
    return replace(current, holder="", duration_seconds=1, acquired=now, renewed=now)


def lost(last_renewed: float, now: float, renew_deadline_seconds: float) -> bool:
    """Whether a leader that last renewed at monotonic `last_renewed` must step down: past
    the renew deadline, which is shorter than the lease, so it stops before a standby may
    take over."""
    return now - last_renewed > renew_deadline_seconds


def check_timings(lease_duration: float, renew_deadline: float, retry_period: float) -> None:
    """client-go's rules, so a leader always steps down before its lease can be taken."""
    if not 0 < retry_period < renew_deadline < lease_duration:
        raise ValueError(
            "--leader-elect-retry-period < --leader-elect-renew-deadline < "
            f"--leader-elect-lease-duration must hold (got {retry_period:g} s, "
            f"{renew_deadline:g} s, {lease_duration:g} s)"
        )
