"""What the canary's pods say beside its metrics: crashes, OOM kills, restarts, readiness.

Metrics see only the requests a pod served; a pod that crash-loops or is OOM-killed serves
none, so its failures never reach an error rate. The pods themselves are read from the
cluster at each window and weigh in here. Stable's pods are the baseline: when both
versions' pods fail alike the cause is shared (the node, a dependency), a hold, not a
rollback, as for a shared bound breach (docs/architecture.md#safety-invariants, 1).
"""

from __future__ import annotations

from airollout.core.analysis.pods import PodHealth
from airollout.core.judge.types import Action


def pod_action(canary: PodHealth | None, stable: PodHealth | None) -> tuple[Action, str] | None:
    """The action the canary's pods call for, and why; None when they call for nothing."""
    if canary is None or canary.pods == 0:
        return None
    if canary.failing:
        crashing = f"{canary.crash_looping} of {canary.pods} canary pods in CrashLoopBackOff"
        crashing += f", {canary.oom_killed} OOMKilled"
        if stable is not None and stable.failing:
            shared = f"{crashing}, and {stable.failing} of {stable.pods} stable pods fail too"
            return Action.HOLD, f"pods: {shared}: a shared cause that a rollback would not fix."
        return Action.ROLLBACK, f"pods: {crashing}."
    stable_rate = stable.restarts_per_pod() if stable is not None else 0.0
    if canary.restarts and canary.restarts_per_pod() > stable_rate:
        return Action.HOLD, (
            f"pods: canary containers restarted {canary.restarts} times over {canary.pods} "
            f"pods ({canary.restarts_per_pod():.2g} per pod, stable {stable_rate:.2g})."
        )
    if canary.ready < canary.pods:
        return (
            Action.HOLD,
            f"pods: {canary.pods - canary.ready} of {canary.pods} canary pods not ready.",
        )
    return None
