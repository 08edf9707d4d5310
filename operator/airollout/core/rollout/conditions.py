"""Kubernetes-style conditions derived from the phase, for people and `kubectl wait`.

Three types: `Progressing` (is the rollout moving by itself), `Paused` and `Completed`.
`lastTransitionTime` changes only when a condition's status flips, as the conventions ask.
"""

from __future__ import annotations

from datetime import datetime

from airollout.core.resource.status import TERMINAL_PHASES, AIRolloutStatus, Condition, Phase
from airollout.core.rollout.timeline import to_rfc3339

MOVING_PHASES = frozenset(
    {
        Phase.PENDING,
        Phase.SELECTING,
        Phase.TESTING,
        Phase.EVALUATING,
        Phase.PROGRESSING,
        Phase.PROMOTING,
    }
)


def _truth(value: bool) -> str:
    return "True" if value else "False"


# A condition's message is read in `kubectl describe`, one line per condition: the status
# message's first line, cut at this many characters (the record keeps the rest).
SHORT_MESSAGE = 200


def short_message(message: str) -> str:
    """A message's first line, cut to SHORT_MESSAGE characters."""
    first = message.strip().split("\n", 1)[0]
    return first if len(first) <= SHORT_MESSAGE else first[: SHORT_MESSAGE - 1] + "…"


def _desired(status: AIRolloutStatus) -> list[tuple[str, bool, str, str]]:
    """(type, status, reason, message) of each condition; only the condition that explains
    the phase carries its message, so `kubectl describe` does not show it three times."""
    phase = status.phase
    reason = status.reason or phase.value
    message = short_message(status.message)
    paused, done = phase is Phase.PAUSED, phase in TERMINAL_PHASES
    return [
        ("Progressing", phase in MOVING_PHASES, reason, "" if paused or done else message),
        ("Paused", paused, reason if paused else "NotPaused", message if paused else ""),
        (
            "Completed",
            done,
            phase.value if done else "InProgress",
            message if done else "",
        ),
    ]


def refresh_conditions(status: AIRolloutStatus, now: datetime) -> AIRolloutStatus:
    previous = {condition.type: condition for condition in status.conditions}
    refreshed = []
    for kind, value, reason, message in _desired(status):
        old = previous.get(kind)
        flipped = old is None or old.status != _truth(value)
        refreshed.append(
            Condition(
                type=kind,
                status=_truth(value),
                reason=reason,
                message=message,
                observed_generation=status.observed_generation,
                last_transition_time=to_rfc3339(now)
                if flipped or old is None
                else old.last_transition_time,
            )
        )
    others = [c for c in status.conditions if c.type not in {kind for kind, *_ in _desired(status)}]
    return status.model_copy(update={"conditions": refreshed + others})
