"""What the controller is asked to do: the outputs of the state machine.

Every action carries a deterministic key (see `keys`). The controller records none of the
keys it carried out: replaying a step after a crash is harmless because every action is
level-based (a router call moves the cluster towards a state and says whether it is there;
an Event or decision record named by its key is written once whatever the repeats), and
the change still to be confirmed is named in `status.awaiting`, which the next reconcile
asks for again until it is done (invariant 5, docs/architecture.md#safety-invariants).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from airollout.core.judge.types import Verdict
from airollout.core.resource.status import DecisionRecord


class JobKind(StrEnum):
    SELECTION = "selection"
    TESTS = "tests"
    PROMOTION = "promotion"


@dataclass(frozen=True, slots=True)
class CreateJob:
    kind: JobKind
    key: str


@dataclass(frozen=True, slots=True)
class SetWeight:
    weight: int  # percent of traffic to the canary
    key: str


@dataclass(frozen=True, slots=True)
class StartWindow:
    """Open an analysis window; the judge sees what happens between `start` and `end`."""

    key: str
    start: str  # RFC 3339
    end: str


@dataclass(frozen=True, slots=True)
class JudgeWindow:
    """The window has ended: evaluate it and answer with `WindowJudged` naming `window`."""

    key: str
    window: str  # the key StartWindow gave the window
    start: str
    end: str


@dataclass(frozen=True, slots=True)
class PromoteTarget:
    """Make the new template the target's own and retire the canary."""

    key: str


@dataclass(frozen=True, slots=True)
class Rollback:
    """All traffic back to stable at once."""

    key: str


@dataclass(frozen=True, slots=True)
class RecordDecision:
    """Write the verdict to the decision log; `record` is the copy the status keeps too.
    `verdict` is None for the promotion verdict, which no window judge gave."""

    verdict: Verdict | None
    key: str
    record: DecisionRecord


@dataclass(frozen=True, slots=True)
class EmitEvent:
    reason: str  # CamelCase, as Kubernetes events want it
    message: str
    key: str
    warning: bool = False
    # A condition that may recur under the same key: repeats are counted on one Event.
    repeated: bool = False


RolloutAction = (
    CreateJob
    | SetWeight
    | StartWindow
    | JudgeWindow
    | PromoteTarget
    | Rollback
    | RecordDecision
    | EmitEvent
)
