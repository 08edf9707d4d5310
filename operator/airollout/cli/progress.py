"""What `airollout watch` prints as a rollout moves: phase and traffic changes, new decisions.

Pure: it takes the successive versions of the rollout (as RolloutViews) and says what is new
in each, so the watch loop around it only reads and prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from airollout.cli.manifest import RolloutView
from airollout.cli.render import promotion_line, render_decision, traffic_line
from airollout.core.resource.status import AIRolloutStatus, DecisionRecord, Phase

EXIT_SUCCEEDED = 0
EXIT_FAILED = 1
EXIT_TIMED_OUT = 2
EXIT_NEEDS_PERSON = 3  # AwaitingApproval, or Blocked by the promotion score

_FINAL_EXIT_CODES = {
    Phase.SUCCEEDED: EXIT_SUCCEEDED,
    Phase.ROLLED_BACK: EXIT_FAILED,
    Phase.FAILED: EXIT_FAILED,
}


def exit_code_for(phase: Phase) -> int | None:
    """The watch's exit status once the rollout is over; None while it is not."""
    return _FINAL_EXIT_CODES.get(phase)


def waits_for_person(status: AIRolloutStatus) -> bool:
    """Only a person moves it on: a review to answer, or a promotion block to override or
    abort. A rollout Blocked by another one on the same target resumes by itself."""
    if status.phase is Phase.AWAITING_APPROVAL:
        return True
    return status.phase is Phase.BLOCKED and status.blocked_by is None


def stop_code(status: AIRolloutStatus, wait_for_approval: bool) -> int | None:
    """The watch's exit status at this version of the rollout; None to keep watching."""
    if not wait_for_approval and waits_for_person(status):
        return EXIT_NEEDS_PERSON
    return exit_code_for(status.phase)


def waiting_lines(view: RolloutView) -> list[str]:
    """What a CI log needs when the watch stops for a person: the phase, why, the score."""
    status = view.status
    lines = [f"{view.ref} is {status.phase.value} ({status.reason}): waiting for a person"]
    if status.message:
        lines.append(f"  {status.message}")
    if status.promotion:
        lines.append(f"  promotion: {promotion_line(status.promotion)}")
    return lines


def decision_identity(record: DecisionRecord) -> str:
    """The record's window key; records written without one fall back to what they say."""
    if record.key:
        return record.key
    return f"{record.time}|{record.action}|{record.slice}|{record.window}"


@dataclass
class Progress:
    """What has been printed so far, so each change and each decision is printed once."""

    phase: Phase | None = None
    traffic: tuple[int | None, int] | None = None
    printed: set[str] = field(default_factory=set)
    last: RolloutView | None = None

    def update(self, view: RolloutView) -> list[str]:
        """The lines to print for this version of the rollout (none when nothing is new)."""
        lines = self._phase_change(view) + self._traffic_change(view)
        for record in view.decisions:
            identity = decision_identity(record)
            if identity not in self.printed:
                self.printed.add(identity)
                lines += render_decision(record, view.slices, detailed=False)
        self.last = view
        return lines

    def _phase_change(self, view: RolloutView) -> list[str]:
        status = view.status
        if status.phase == self.phase:
            return []
        before = f"{self.phase.value} → " if self.phase is not None else ""
        self.phase = status.phase
        reason = f" ({status.reason})" if status.reason else ""
        message = f": {status.message}" if status.message else ""
        return [f"phase {before}{status.phase.value}{reason}{message}"]

    def _traffic_change(self, view: RolloutView) -> list[str]:
        traffic = (view.status.slice, view.status.weight)
        if traffic == self.traffic:
            return []
        first = self.traffic is None
        self.traffic = traffic
        if first and traffic == (None, 0):
            return []
        return [f"traffic: {traffic_line(view.slices, *traffic)}"]

    @property
    def last_decision(self) -> DecisionRecord | None:
        return self.last.decisions[-1] if self.last and self.last.decisions else None
