"""Ready replica counts of a target's stable and canary pods, read from the cluster: its
two Deployments, or an Argo Rollout's ReplicaSets.

The one module of the simulated workload that talks to Kubernetes; the untyped client's
values become ints at once, so the typed workload never sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes import client, config

from airollout.core.analysis.types import Version
from airollout_tools.sim.workload import CANARY_SUFFIX, ReadyReplicas

REQUEST_TIMEOUT_S = 2.0
NOT_FOUND = 404
ARGO_GROUP, ARGO_VERSION = "argoproj.io", "v1alpha1"
POD_HASH_LABEL = "rollouts-pod-template-hash"
# The client's kubeconfig loader has no annotations; this states the one signature used here.
_new_api_client: Callable[..., client.ApiClient] = config.new_client_from_config


class ClusterShares:
    """A shares source for `Workload`: reads `<target>` and `<target>-canary` on each call."""

    def __init__(self, namespace: str, target: str, kubeconfig: str | None = None) -> None:
        self.namespace = namespace
        self.target = target
        self._apps = client.AppsV1Api(_new_api_client(config_file=kubeconfig))

    def __call__(self) -> ReadyReplicas:
        return ReadyReplicas(
            stable=self.ready_replicas(self.target),
            canary=self.ready_replicas(self.target + CANARY_SUFFIX),
        )

    def ready_replicas(self, deployment: str) -> int:
        """A Deployment's ready pods; one that does not exist (no canary yet) has none."""
        try:
            found = self._apps.read_namespaced_deployment_status(
                deployment, self.namespace, _request_timeout=REQUEST_TIMEOUT_S
            )
        except client.ApiException as error:
            if error.status == NOT_FOUND:
                return 0
            raise
        ready: int = int(found.status.ready_replicas or 0) if found.status else 0
        return ready


class RolloutShares:
    """A shares source for an Argo Rollout: the ready pods of its stable and canary
    ReplicaSets, told apart by rollouts-pod-template-hash (`status.stableRS` and
    `status.currentPodHash`); `hashes()` names each version's hash as last read."""

    def __init__(self, namespace: str, rollout: str, kubeconfig: str | None = None) -> None:
        self.namespace, self.rollout = namespace, rollout
        api = _new_api_client(config_file=kubeconfig)
        self._apps, self._custom = client.AppsV1Api(api), client.CustomObjectsApi(api)
        self._hashes: dict[Version, str] = {}

    def __call__(self) -> ReadyReplicas:
        status = self._rollout_status()
        stable, current = str(status.get("stableRS", "")), str(status.get("currentPodHash", ""))
        ready = self._ready_by_hash()
        hashes = {Version.STABLE: stable} if stable else {}
        if current and current != stable:
            hashes[Version.CANARY] = current
        self._hashes = hashes
        return ReadyReplicas(
            stable=ready.get(stable, 0),
            canary=ready.get(current, 0) if Version.CANARY in hashes else 0,
        )

    def hashes(self) -> dict[Version, str]:
        return dict(self._hashes)

    def _rollout_status(self) -> dict[str, object]:
        try:
            found: Any = self._custom.get_namespaced_custom_object(
                ARGO_GROUP,
                ARGO_VERSION,
                self.namespace,
                "rollouts",
                self.rollout,
                _request_timeout=REQUEST_TIMEOUT_S,
            )
        except client.ApiException as error:
            if error.status == NOT_FOUND:
                return {}
            raise
        status = found.get("status")
        return status if isinstance(status, dict) else {}

    def _ready_by_hash(self) -> dict[str, int]:
        sets = self._apps.list_namespaced_replica_set(
            self.namespace, _request_timeout=REQUEST_TIMEOUT_S
        )
        ready: dict[str, int] = {}
        for replica_set in sets.items:
            meta = replica_set.metadata
            owners = (meta.owner_references if meta else None) or []
            if not any(o.kind == "Rollout" and o.name == self.rollout for o in owners):
                continue
            pod_hash = ((meta.labels if meta else None) or {}).get(POD_HASH_LABEL)
            if pod_hash:
                status = replica_set.status
                ready[pod_hash] = int(status.ready_replicas or 0) if status else 0
        return ready
