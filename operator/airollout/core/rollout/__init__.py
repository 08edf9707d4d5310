"""The rollout state machine: pure functions from (status, input) to (status, actions)."""

from airollout.core.rollout.machine import step
from airollout.core.rollout.machine_spec import HoldExpiry, MachineSpec, OnHold, ScoreThresholds

__all__ = ["HoldExpiry", "MachineSpec", "OnHold", "ScoreThresholds", "step"]
