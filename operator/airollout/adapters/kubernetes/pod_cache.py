"""Pods as a watch keeps them, for the judge's pod counts without a LIST per window.

At hundreds of rollouts whose windows end together, two pod LISTs per judgment queued on
the API server ahead of the status writes: about two seconds of the p99 decision delay in
the 200-rollout benchmark. A watched namespace's pods are kept as the few fields
`pods.pod_health` counts, so a namespace of many pods costs little memory. A namespace not
yet listed, or whose watch is broken (no `watch` permission on pods, say), is read with a
LIST as before.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from airollout.adapters.kubernetes.watched_objects import ListCall, Object, WatchedObjects

METADATA_KEPT = ("name", "namespace", "uid", "resourceVersion", "labels", "deletionTimestamp")
CONTAINER_STATUS_KEPT = ("ready", "restartCount", "state", "lastState")


class PodCache(WatchedObjects):
    """The pods of the namespaces asked about, one watch per namespace."""

    kind = "pods"

    def list_call(self, api: client.ApiClient) -> ListCall:
        core = client.CoreV1Api(api)

        def list_pods(namespace: str, **options: Any) -> Any:
            return core.list_namespaced_pod(namespace, **options)

        return list_pods

    def keep(self, obj: Object) -> Object:
        """What identifies and selects the pod, and what `pods.pod_health` counts."""
        metadata = obj.get("metadata") or {}
        statuses = (obj.get("status") or {}).get("containerStatuses") or []
        return {
            "metadata": {key: metadata[key] for key in METADATA_KEPT if key in metadata},
            "status": {
                "containerStatuses": [
                    {key: status[key] for key in CONTAINER_STATUS_KEPT if key in status}
                    for status in statuses
                ]
            },
        }
