"""The rollout step state machine: pure functions from (status, event) to (status, actions)."""

from airollout.core.rollout.machine import step
from airollout.core.rollout.machine_spec import HoldExpiry, OnHold, PromotionThresholds, SpecView

__all__ = ["HoldExpiry", "OnHold", "PromotionThresholds", "SpecView", "step"]
