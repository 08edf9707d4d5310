"""A pod's status from the state of its containers, computed the way the kubelet does
(pkg/kubelet's getPhase): pure functions, so the rules read in one place."""

import dataclasses
from typing import Any

from localcluster.podrunner_api import now_rfc3339

# The kubelet's limits on a termination message (pkg/kubelet/container).
MESSAGE_BYTES = 4096
FALLBACK_LOG_LINES = 80
FALLBACK_LOG_BYTES = 2048


@dataclasses.dataclass
class ContainerRun:
    """What a container is doing now, and what it did the time before."""

    name: str
    image: str
    state: dict[str, Any] = dataclasses.field(
        default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}}
    )
    last_state: dict[str, Any] = dataclasses.field(default_factory=dict)
    restart_count: int = 0
    pid: int = 0

    def start(self, pid: int) -> None:
        if "terminated" in self.state:
            self.last_state = self.state
            self.restart_count += 1
        self.state = {"running": {"startedAt": now_rfc3339()}}
        self.pid = pid

    def finish(self, exit_code: int, message: str) -> None:
        started = self.state.get("running", {}).get("startedAt", now_rfc3339())
        self.state = {"terminated": terminated(exit_code, message, started)}

    def wait(self, reason: str, message: str = "") -> None:
        """Waiting, e.g. CrashLoopBackOff; a restart keeps the last run in lastState."""
        if "terminated" in self.state:
            self.last_state = self.state
            self.restart_count += 1
        self.state = {"waiting": {"reason": reason, "message": message}}

    @property
    def exit_code(self) -> int | None:
        code = self.state.get("terminated", {}).get("exitCode")
        return None if code is None else int(code)

    def status(self, ready: bool) -> dict[str, Any]:
        return {
            "name": self.name,
            "image": self.image,
            "imageID": "",
            "containerID": f"podrunner://{self.name}-{self.restart_count}",
            "state": self.state,
            "lastState": self.last_state,
            "ready": ready,
            "started": "running" in self.state,
            "restartCount": self.restart_count,
        }


def terminated(exit_code: int, message: str, started_at: str) -> dict[str, Any]:
    state = {
        "exitCode": exit_code,
        "reason": "Completed" if exit_code == 0 else "Error",
        "startedAt": started_at,
        "finishedAt": now_rfc3339(),
    }
    if message:
        state["message"] = message
    return state


def exit_code_of(returncode: int) -> int:
    """A process killed by a signal exits 128 + the signal, as a container's would."""
    return 128 - returncode if returncode < 0 else returncode


def termination_message(written: bytes, log_tail: bytes, fallback: bool, exit_code: int) -> str:
    if written.strip() or not (fallback and exit_code != 0):
        return written[:MESSAGE_BYTES].decode(errors="replace")
    lines = log_tail.splitlines(keepends=True)[-FALLBACK_LOG_LINES:]
    return b"".join(lines)[-FALLBACK_LOG_BYTES:].decode(errors="replace")


def init_phase(runs: list[ContainerRun], restart_policy: str) -> str | None:
    """Pending while init containers have not all succeeded; Failed when one failed and
    will not restart; None once they are all done."""
    for run in runs:
        if run.exit_code == 0:
            continue
        if run.exit_code is not None and restart_policy == "Never":
            return "Failed"
        return "Pending"
    return None


def pod_phase(runs: list[ContainerRun], restart_policy: str) -> str:
    waiting = sum(1 for r in runs if "waiting" in r.state and not r.last_state)
    running = sum(1 for r in runs if "running" in r.state)
    stopped = len(runs) - waiting - running
    succeeded = sum(1 for r in runs if r.exit_code == 0)
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if restart_policy == "Always":
        return "Running" if stopped else "Pending"
    if stopped == succeeded:
        return "Succeeded"
    return "Running" if restart_policy == "OnFailure" else "Failed"


def _condition(kind: str, true: bool, reason: str = "") -> dict[str, Any]:
    condition = {"type": kind, "status": "True" if true else "False"}
    condition["lastTransitionTime"] = now_rfc3339()
    if reason:
        condition["reason"] = reason
    return condition


def conditions(
    pod: dict[str, Any], phase: str, initialized: bool, ready: bool
) -> list[dict[str, Any]]:
    """Conditions the kubelet owns, and the scheduler's PodScheduled kept as it is."""
    kept = [c for c in pod.get("status", {}).get("conditions") or [] if c["type"] == "PodScheduled"]
    done = phase in ("Succeeded", "Failed")
    not_ready = "PodCompleted" if done else "ContainersNotReady"
    previous = {c["type"]: c for c in pod.get("status", {}).get("conditions") or []}
    fresh = [
        _condition("PodReadyToStartContainers", not done),
        _condition("Initialized", initialized, "" if initialized else "ContainersNotInitialized"),
        _condition("ContainersReady", ready, "" if ready else not_ready),
        _condition("Ready", ready, "" if ready else not_ready),
    ]
    for condition in fresh:  # a transition time moves only when the status does
        old = previous.get(condition["type"])
        if old and old.get("status") == condition["status"]:
            condition["lastTransitionTime"] = old.get("lastTransitionTime")
    return kept + fresh
