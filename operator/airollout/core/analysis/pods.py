"""One version's pods as the judge reads them: counted at the end of each window."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PodHealth:
    """One version's pods as read at the end of a window."""

    pods: int
    ready: int
    restarts: int  # container restarts summed over the pods
    crash_looping: int  # pods with a container waiting in CrashLoopBackOff
    oom_killed: int  # pods with a container whose current or last end was OOMKilled

    @property
    def failing(self) -> int:
        return self.crash_looping + self.oom_killed

    def restarts_per_pod(self) -> float:
        return self.restarts / self.pods if self.pods else 0.0
