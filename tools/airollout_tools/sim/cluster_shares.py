"""Ready replica counts of a target's stable and canary Deployments, read from the cluster.

The one module of the simulated workload that talks to Kubernetes; the untyped client's
values become ints at once, so the typed workload never sees them.
"""

from __future__ import annotations

from collections.abc import Callable

from kubernetes import client, config

from airollout_tools.sim.workload import CANARY_SUFFIX, ReadyReplicas

REQUEST_TIMEOUT_S = 2.0
NOT_FOUND = 404
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
