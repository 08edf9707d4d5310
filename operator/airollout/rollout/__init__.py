"""The rollout step state machine: pure functions from (status, event) to (status, actions)."""

from airollout.rollout.machine import step
from airollout.rollout.spec_view import HoldExpiry, OnHold, PromotionThresholds, SpecView

__all__ = ["HoldExpiry", "OnHold", "PromotionThresholds", "SpecView", "step"]
