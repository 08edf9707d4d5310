"""Drives the rollout state machine through events with a clock that only moves forward."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from airollout.core.judge.types import Action, Verdict
from airollout.core.resource.status import AIRolloutStatus
from airollout.core.rollout import step
from airollout.core.rollout.actions import RolloutAction
from airollout.core.rollout.inputs import RolloutEvent, Start, Tick, TrafficApplied, WindowJudged
from airollout.core.rollout.machine_spec import MachineSpec, OnHold
from airollout.core.rollout.timeline import from_rfc3339

T = TypeVar("T")

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

PLAIN_SPEC = MachineSpec(
    generation=1,
    slices=(10, 25, 50, 100),
    interval_s=60.0,
    warmup_s=10.0,
    on_hold=OnHold(timeout_s=300.0),
)


def verdict(action: Action, reasoning: str = "because the test says so") -> Verdict:
    return Verdict(action=action, reasoning=reasoning, metrics=(), opinions=())


@dataclass
class Driver:
    spec: MachineSpec = PLAIN_SPEC
    status: AIRolloutStatus = field(default_factory=AIRolloutStatus)
    now: datetime = T0
    emitted: list[RolloutAction] = field(default_factory=list)

    def send(self, event: RolloutEvent, after_s: float = 1.0) -> tuple[RolloutAction, ...]:
        self.now += timedelta(seconds=after_s)
        self.status, actions = step(self.spec, self.status, event, self.now)
        self.emitted.extend(actions)
        return actions

    def ack_traffic(self) -> tuple[RolloutAction, ...]:
        assert self.status.awaiting is not None, "no traffic change is awaited"
        return self.send(TrafficApplied(self.status.awaiting))

    def end_window(self) -> tuple[RolloutAction, ...]:
        """Tick at the open window's end, so the machine asks for its verdict."""
        assert self.status.window is not None, "no window is open"
        end = from_rfc3339(self.status.window.end)
        return self.send(Tick(), after_s=max((end - self.now).total_seconds(), 0.0))

    def judge(self, action: Action, reasoning: str = "judged") -> tuple[RolloutAction, ...]:
        self.end_window()
        assert self.status.window is not None
        return self.send(WindowJudged(self.status.window.key, verdict(action, reasoning)))

    def start_progressing(self) -> Driver:
        """From a fresh resource with no gates: at the first slice with its weight applied."""
        self.send(Start())
        self.ack_traffic()
        return self


def of_type(actions: tuple[RolloutAction, ...] | list[RolloutAction], kind: type[T]) -> list[T]:
    return [action for action in actions if isinstance(action, kind)]
