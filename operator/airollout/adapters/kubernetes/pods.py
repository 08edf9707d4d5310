"""Each version's pods, counted for the judge: ready, restarted, crash-looping, OOM-killed.

The canary's pods are its Deployment's; stable's are the target's that do not carry the
canary's version label (the replica-ratio router's canary Deployment adds it). A failed
read is no reading (None), logged: pods are extra evidence, never a reason to stall.
"""

from __future__ import annotations

import logging
from typing import Any

import urllib3
from kubernetes import client

from airollout.adapters.kubernetes.deployment_cache import DeploymentCache
from airollout.adapters.kubernetes.deployments import DeploymentAPI
from airollout.adapters.traffic.router import RouterError
from airollout.core.analysis.pods import PodHealth
from airollout.core.resource.names import VERSION_LABEL

log = logging.getLogger("airollout.controller")


class PodReader:
    def __init__(self, api: client.ApiClient, deployments: DeploymentCache | None = None) -> None:
        """`deployments`: a watch-backed cache the two Deployments' selectors are read from."""
        self.api, self.core, self.cache = api, client.CoreV1Api(api), deployments

    def health(
        self, namespace: str, canary: str, stable: str
    ) -> tuple[PodHealth | None, PodHealth | None]:
        """(canary, stable) pod health for the two Deployments' pods."""
        return (
            self._version(namespace, canary, f"{VERSION_LABEL}=canary"),
            self._version(namespace, stable, f"!{VERSION_LABEL}"),
        )

    def _version(self, namespace: str, deployment: str, extra: str) -> PodHealth | None:
        try:
            found = DeploymentAPI(self.api, namespace, self.cache).get(deployment)
            if found is None:
                log.warning("%s/%s: pods not read (no such Deployment)", namespace, deployment)
                return None
            labels = found.get("spec", {}).get("selector", {}).get("matchLabels") or {}
            if not labels:
                return None  # a selector of expressions only: not read rather than misread
            selector = ",".join([*(f"{k}={v}" for k, v in sorted(labels.items())), extra])
            pods = self.core.list_namespaced_pod(namespace, label_selector=selector).items
        except (RouterError, client.ApiException, urllib3.exceptions.HTTPError) as error:
            log.warning("%s/%s: pods not read (%s)", namespace, deployment, error)
            return None
        return pod_health(
            [pod for pod in pods if not (pod.metadata and pod.metadata.deletion_timestamp)]
        )


def pod_health(pods: list[Any]) -> PodHealth:
    ready = restarts = crash_looping = oom_killed = 0
    for pod in pods:
        statuses = (pod.status.container_statuses if pod.status else None) or []
        ready += int(bool(statuses) and all(s.ready for s in statuses))
        restarts += sum(s.restart_count or 0 for s in statuses)
        crash_looping += int(any(_waiting(s) == "CrashLoopBackOff" for s in statuses))
        oom_killed += int(any("OOMKilled" in _terminations(s) for s in statuses))
    return PodHealth(len(pods), ready, restarts, crash_looping, oom_killed)


def _waiting(status: Any) -> str | None:
    waiting = status.state.waiting if status.state else None
    return waiting.reason if waiting else None


def _terminations(status: Any) -> tuple[str | None, ...]:
    current = status.state.terminated if status.state else None
    last = status.last_state.terminated if status.last_state else None
    return tuple(ended.reason for ended in (current, last) if ended is not None)
