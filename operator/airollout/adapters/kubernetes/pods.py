"""Each version's pods, counted for the judge: ready, restarted, crash-looping, OOM-killed.

The canary's pods are its Deployment's; stable's are the target's that do not carry the
canary's version label (the replica-ratio router's canary Deployment adds it). A failed
read is no reading (None), logged: pods are extra evidence, never a reason to stall.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import urllib3
from kubernetes import client

from airollout.adapters.kubernetes.deployment_cache import DeploymentCache
from airollout.adapters.kubernetes.deployments import DeploymentAPI
from airollout.adapters.kubernetes.pod_cache import PodCache
from airollout.adapters.traffic.router import RouterError
from airollout.core.analysis.pods import PodHealth
from airollout.core.resource.names import VERSION_LABEL

log = logging.getLogger("airollout.controller")

Pod = dict[str, Any]  # as the API server's JSON has it


class PodReader:
    def __init__(
        self,
        api: client.ApiClient,
        deployments: DeploymentCache | None = None,
        pods: PodCache | None = None,
    ) -> None:
        """`deployments`: a watch-backed cache the two Deployments' selectors are read from;
        `pods`: one the pods are counted from (a namespace it does not know yet is LISTed)."""
        self.api, self.core, self.cache = api, client.CoreV1Api(api), deployments
        self.pod_cache = pods

    def health(
        self, namespace: str, canary: str, stable: str
    ) -> tuple[PodHealth | None, PodHealth | None]:
        """(canary, stable) pod health for the two Deployments' pods."""
        return (
            self._version(namespace, canary, canary=True),
            self._version(namespace, stable, canary=False),
        )

    def _version(self, namespace: str, deployment: str, *, canary: bool) -> PodHealth | None:
        try:
            found = DeploymentAPI(self.api, namespace, self.cache).get(deployment)
            if found is None:
                log.warning("%s/%s: pods not read (no such Deployment)", namespace, deployment)
                return None
            labels = found.get("spec", {}).get("selector", {}).get("matchLabels") or {}
            if not labels:
                return None  # a selector of expressions only: not read rather than misread
            pods = self._pods(namespace, labels, canary)
        except (
            RouterError,
            client.ApiException,
            urllib3.exceptions.HTTPError,
            ValueError,
        ) as error:
            # ValueError: an answer that is not JSON (a proxy's page, or one cut off).
            log.warning("%s/%s: pods not read (%s)", namespace, deployment, error)
            return None
        return pod_health(
            [pod for pod in pods if not (pod.get("metadata") or {}).get("deletionTimestamp")]
        )

    def _pods(self, namespace: str, labels: Mapping[str, str], canary: bool) -> list[Pod]:
        """The Deployment's pods (`labels`: its matchLabels) of one version: the canary's
        carry the version label, stable's do not."""
        if self.pod_cache is not None:
            held = self.pod_cache.matching(namespace, lambda pod: _selected(pod, labels, canary))
            if held is not None:
                return held
        version = f"{VERSION_LABEL}=canary" if canary else f"!{VERSION_LABEL}"
        selector = ",".join([*(f"{k}={v}" for k, v in sorted(labels.items())), version])
        return self._list(namespace, selector)

    def _list(self, namespace: str, selector: str) -> list[Pod]:
        """The pods as JSON: the client's models cost more to build than the rest of the
        judgment at hundreds of rollouts, and four fields are read."""
        answer: Any = self.core.list_namespaced_pod(
            namespace, label_selector=selector, _preload_content=False
        )
        items: list[Pod] = json.loads(answer.data).get("items") or []
        return items


def _selected(pod: Pod, labels: Mapping[str, str], canary: bool) -> bool:
    """What the LIST's label selector would select."""
    held = (pod.get("metadata") or {}).get("labels") or {}
    if any(held.get(key) != value for key, value in labels.items()):
        return False
    return held.get(VERSION_LABEL) == "canary" if canary else VERSION_LABEL not in held


def pod_health(pods: list[Pod]) -> PodHealth:
    ready = restarts = crash_looping = oom_killed = 0
    for pod in pods:
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        ready += int(bool(statuses) and all(s.get("ready") for s in statuses))
        restarts += sum(s.get("restartCount") or 0 for s in statuses)
        crash_looping += int(any(_waiting(s) == "CrashLoopBackOff" for s in statuses))
        oom_killed += int(any("OOMKilled" in _terminations(s) for s in statuses))
    return PodHealth(len(pods), ready, restarts, crash_looping, oom_killed)


def _waiting(status: Mapping[str, Any]) -> str | None:
    waiting = (status.get("state") or {}).get("waiting") or {}
    return waiting.get("reason")


def _terminations(status: Mapping[str, Any]) -> tuple[str | None, ...]:
    current = (status.get("state") or {}).get("terminated")
    last = (status.get("lastState") or {}).get("terminated")
    return tuple(ended.get("reason") for ended in (current, last) if ended is not None)
