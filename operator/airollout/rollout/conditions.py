"""Kubernetes-style conditions derived from the phase, for people and `kubectl wait`.

Three types: `Progressing` (is the rollout moving by itself), `Paused` and `Completed`.
`lastTransitionTime` changes only when a condition's status flips, as the conventions ask.
"""

from __future__ import annotations

from datetime import datetime

from airollout.api.status import TERMINAL_PHASES, AIRolloutStatus, Condition, Phase
from airollout.rollout.timeline import to_rfc3339

MOVING_PHASES = frozenset(
    {Phase.PENDING, Phase.SELECTING, Phase.EVALUATING, Phase.PROGRESSING, Phase.PROMOTING}
)


def _truth(value: bool) -> str:
    return "True" if value else "False"


def _desired(status: AIRolloutStatus) -> list[tuple[str, bool, str]]:
    phase = status.phase
    reason = status.reason or phase.value
    return [
        ("Progressing", phase in MOVING_PHASES, reason),
        ("Paused", phase is Phase.PAUSED, reason if phase is Phase.PAUSED else "NotPaused"),
        (
            "Completed",
            phase in TERMINAL_PHASES,
            phase.value if phase in TERMINAL_PHASES else "InProgress",
        ),
    ]


def refresh_conditions(status: AIRolloutStatus, now: datetime) -> AIRolloutStatus:
    previous = {condition.type: condition for condition in status.conditions}
    refreshed = []
    for kind, value, reason in _desired(status):
        old = previous.get(kind)
        flipped = old is None or old.status != _truth(value)
        refreshed.append(
            Condition(
                type=kind,
                status=_truth(value),
                reason=reason,
                message=status.message,
                observed_generation=status.observed_generation,
                last_transition_time=to_rfc3339(now)
                if flipped or old is None
                else old.last_transition_time,
            )
        )
    others = [
        c for c in status.conditions if c.type not in {kind for kind, _, _ in _desired(status)}
    ]
    return status.model_copy(update={"conditions": refreshed + others})
