"""The seam between the controller and whatever moves traffic: one `TrafficRouter` per kind.

Every method is level-based and idempotent: it looks at the cluster, moves it one step
towards the wanted state, and says whether that state is reached. The controller calls it
again on the next reconcile until it is, so a crash or a repeated call never applies a
traffic change twice (safety invariant 5). A router keeps no state in memory; what it must
remember (the stable replica count before the rollout, for instance) lives in the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from airollout.core.analysis.types import Version
from airollout.core.resource.spec import AIRolloutSpec


@dataclass(frozen=True, slots=True)
class RolloutTarget:
    """Which rollout moves which Deployment to what: everything a router needs to act."""

    namespace: str
    rollout: str  # the AIRollout's name
    rollout_uid: str  # owner of what the router creates, so deleting the rollout cleans up
    spec: AIRolloutSpec

    @property
    def target(self) -> str:
        return self.spec.target_ref.name


class TargetMissingError(Exception):
    """The target Deployment does not exist (not yet, or deleted mid-rollout)."""

    def __init__(self, namespace: str, name: str) -> None:
        super().__init__(f"Deployment {namespace}/{name} does not exist")
        self.namespace, self.name = namespace, name


class TargetChangedError(Exception):
    """Someone else changed the target during the rollout; the message says what."""


class RouterError(Exception):
    """The router could not act (API error, bad template); the message is for people."""


class TrafficRouter(Protocol):
    def set_weight(self, target: RolloutTarget, weight: int) -> bool:
        """Move towards `weight` percent on the canary; True once it is in effect."""
        ...

    def promote(self, target: RolloutTarget) -> bool:
        """Make the new template the target's own; True once it serves all traffic."""
        ...

    def rollback(self, target: RolloutTarget) -> bool:
        """All traffic back to stable at once; True once stable serves all of it."""
        ...

    def workloads(self, target: RolloutTarget) -> dict[Version, str]:
        """The workload name of each version, for `{{ workload }}` in metric queries."""
        ...
