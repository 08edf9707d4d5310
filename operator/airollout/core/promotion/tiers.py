"""Tiers: what a promotion score decides, given the hard blocks and the thresholds."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Decision(enum.StrEnum):
    AUTO_PROMOTE = "auto-promote"
    MANUAL_REVIEW = "manual-review"
    BLOCK = "block"


# most cautious last: the order `more_cautious` ranks by
CAUTION = (Decision.AUTO_PROMOTE, Decision.MANUAL_REVIEW, Decision.BLOCK)


class ThresholdsError(ValueError):
    """Thresholds out of order or out of [0, 1]; the message names the field."""


@dataclasses.dataclass(frozen=True, slots=True)
class Thresholds:
    auto_promote: float = 0.92
    manual_review: float = 0.75

    def __post_init__(self) -> None:
        for name in ("auto_promote", "manual_review"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ThresholdsError(f"thresholds.{name}: must be a number in [0, 1]")
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ThresholdsError(f"thresholds.{name}: must be a number in [0, 1]")
        if self.manual_review > self.auto_promote:
            raise ThresholdsError(
                f"thresholds.manual_review: {self.manual_review} is above "
                f"thresholds.auto_promote ({self.auto_promote})"
            )

    def to_json(self) -> dict[str, float]:
        return {"auto_promote": self.auto_promote, "manual_review": self.manual_review}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Thresholds:
        if not isinstance(obj, Mapping):
            raise ThresholdsError("thresholds: must be an object")
        unknown = sorted(set(obj) - {"auto_promote", "manual_review"})
        if unknown:
            raise ThresholdsError(f"thresholds.{unknown[0]}: unknown key")
        return cls(**obj)


class TierBounds(Protocol):
    """What `decide` reads: `Thresholds`, or the state machine's copy of the spec's."""

    @property
    def auto_promote(self) -> float: ...

    @property
    def manual_review(self) -> float: ...


def decide(
    probability: float, blocks: Sequence[str], thresholds: TierBounds = Thresholds()
) -> Decision:
    """Any block gives `block`; otherwise the score's tier (a threshold itself is in)."""
    if blocks:
        return Decision.BLOCK
    if probability >= thresholds.auto_promote:
        return Decision.AUTO_PROMOTE
    if probability >= thresholds.manual_review:
        return Decision.MANUAL_REVIEW
    return Decision.BLOCK


def more_cautious(*decisions: Decision) -> Decision:
    """The most cautious of the decisions: block over review over auto-promote."""
    if not decisions:
        raise ValueError("more_cautious: needs at least one decision")
    return max(decisions, key=CAUTION.index)
