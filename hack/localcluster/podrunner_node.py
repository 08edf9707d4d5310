"""The pod runner's Node: registered without kwok's annotation (kwok leaves it alone), with a
taint so only pods that tolerate it land there, and kept Ready by a Lease and heartbeats."""

import os
from typing import Any

from localcluster.nodes import NODE_RESOURCES
from localcluster.podrunner_api import RunnerApi, now_micro, now_rfc3339

RUNNER_LABEL = "airollout.dev/local-runner"
RUNNER_TAINT = {"key": RUNNER_LABEL, "value": "true", "effect": "NoSchedule"}
NODE_IP = "127.0.0.1"
LEASE_NAMESPACE = "kube-node-lease"
LEASE_SECONDS = 40
HEARTBEAT_SECONDS = 10.0
# Reported in nodeInfo so `kubectl get node -o wide` says what runs the pods.
RUNTIME_VERSION = "airollout-podrunner://0.1 (host processes, images ignored)"


def runner_node(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                RUNNER_LABEL: "true",
                "type": "local-runner",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
        "spec": {"taints": [RUNNER_TAINT]},
    }


def _condition(kind: str, status: str, reason: str, since: str, now: str) -> dict[str, str]:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": f"pod runner: {reason}",
        "lastHeartbeatTime": now,
        "lastTransitionTime": since,
    }


def node_status(kubelet_port: int, since: str) -> dict[str, Any]:
    now = now_rfc3339()
    pressure = [
        _condition(kind, "False", f"KubeletHasNo{kind}", since, now)
        for kind in ("MemoryPressure", "DiskPressure", "PIDPressure")
    ]
    return {
        "conditions": [*pressure, _condition("Ready", "True", "KubeletReady", since, now)],
        # Only an IP: the apiserver tries a Hostname address first and could not resolve it.
        "addresses": [{"type": "InternalIP", "address": NODE_IP}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}},
        "capacity": NODE_RESOURCES,
        "allocatable": NODE_RESOURCES,
        "nodeInfo": {
            "architecture": "amd64",
            "operatingSystem": "linux",
            "containerRuntimeVersion": RUNTIME_VERSION,
            "kubeletVersion": "v0.0.0-podrunner",
            "machineID": "",
            "systemUUID": "",
            "bootID": str(os.getpid()),
            "kernelVersion": os.uname().release,
            "osImage": "host",
            "kubeProxyVersion": "",
        },
    }


class NodeAgent:
    """Registers the Node and keeps it alive, as a kubelet's node status loop does."""

    def __init__(self, api: RunnerApi, name: str, kubelet_port: int) -> None:
        self.api = api
        self.name = name
        self.kubelet_port = kubelet_port
        self.since = now_rfc3339()
        self.uid = ""

    def register(self) -> None:
        path = "/api/v1/nodes"
        created = self.api.ok("POST", path, runner_node(self.name), allow=(409,))
        if not isinstance(created, dict):  # already there, from an earlier runner
            spec = runner_node(self.name)
            created = self.api.ok("PATCH", f"{path}/{self.name}", spec)
        self.uid = created["metadata"]["uid"]
        self.heartbeat()

    def heartbeat(self) -> None:
        status = {"status": node_status(self.kubelet_port, self.since)}
        self.api.ok("PATCH", f"/api/v1/nodes/{self.name}/status", status)
        self._renew_lease()

    def _renew_lease(self) -> None:
        path = f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases"
        spec = {
            "holderIdentity": self.name,
            "leaseDurationSeconds": LEASE_SECONDS,
            "renewTime": now_micro(),
        }
        renewed = self.api.ok("PATCH", f"{path}/{self.name}", {"spec": spec}, allow=(404,))
        if isinstance(renewed, dict):
            return
        owner = {"apiVersion": "v1", "kind": "Node", "name": self.name, "uid": self.uid}
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "ownerReferences": [owner]},
            "spec": spec,
        }
        self.api.ok("POST", path, lease)
