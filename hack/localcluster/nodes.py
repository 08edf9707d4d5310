"""Node objects of the local cluster.

Nodes named `kwok-node-<i>` carry kwok's annotation: kwok keeps them Ready and plays their
pods (Running, Ready, an IP) without a kubelet. The Job executor of a later issue gets a node
of its own, `executor-node-<i>`, without that annotation and with a taint, so Deployment pods
never land on it and kwok never fakes its pods.
"""

from typing import Any

from localcluster.components import KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE

KWOK_NODE_PREFIX = "kwok-node-"
NODE_RESOURCES = {"cpu": "32", "memory": "256Gi", "pods": "110"}


def kwok_node_name(index: int) -> str:
    return f"{KWOK_NODE_PREFIX}{index}"


def kwok_node(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_NODE_ANNOTATION: KWOK_NODE_ANNOTATION_VALUE},
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/agent": "",
            },
        },
        "status": {
            "allocatable": NODE_RESOURCES,
            "capacity": NODE_RESOURCES,
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux"},
        },
    }


def is_ready(node: dict[str, Any]) -> bool:
    conditions = node.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
