"""Deployments as a watch keeps them: reads without a GET per reconcile.

The router and the pod reader look at a rollout's target and its canary on every tick; at
hundreds of rollouts those GETs queue on the API server that the status writes need. A
namespace's Deployments are kept by `WatchedObjects` (one list, then a watch); until its
list has arrived, or while the watch is broken, a lookup says "not known" and the caller
GETs as before.

A cached object can be a little old. That is safe because every write the router makes
from a read either carries the read's resourceVersion (a stale read is a 409 and a retry)
or sets an absolute value computed from the rollout's own record (writing it again changes
nothing). What a write returns is stored at once, so the next tick does not act on the
state before it.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from airollout.adapters.kubernetes.watched_objects import ListCall, WatchedObjects

Deployment = dict[str, Any]
GROUP, VERSION, PLURAL = "apps", "v1", "deployments"


class DeploymentCache(WatchedObjects):
    """Every Deployment of the namespaces asked about, kept by one watch per namespace."""

    kind = "deployments"

    def list_call(self, api: client.ApiClient) -> ListCall:
        objects = client.CustomObjectsApi(api)

        def list_deployments(namespace: str, **options: Any) -> Any:
            return objects.list_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, **options
            )

        return list_deployments
