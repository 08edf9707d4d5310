"""The rollout's Jobs in the cluster: created once under their key's name, read back as a
`JobView` (the Job's terminal condition and each pod's termination message)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes import client

from airollout.core.rollout.jobs import JobView, PodView

JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"


class JobError(Exception):
    """The apiserver refused to create or read a Job (its status and reason in the text)."""


class Jobs:
    def __init__(self, batch: client.BatchV1Api, core: client.CoreV1Api) -> None:
        self.batch, self.core = batch, core

    def ensure(self, manifest: Mapping[str, Any]) -> None:
        """Create the Job; one already there under that name (409) is the same Job."""
        namespace = manifest["metadata"]["namespace"]
        try:
            self.batch.create_namespaced_job(namespace, dict(manifest))  # type: ignore[arg-type]
        except client.ApiException as error:
            if error.status != 409:
                raise JobError(_explained("create", manifest["metadata"]["name"], error)) from error

    def view(self, namespace: str, name: str) -> JobView | None:
        """The Job as it stands; None when there is none under that name."""
        try:
            job = self.batch.read_namespaced_job(name, namespace)
            pods = self.core.list_namespaced_pod(
                namespace, label_selector=f"{JOB_NAME_LABEL}={name}"
            )
        except client.ApiException as error:
            if error.status == 404:
                return None
            raise JobError(_explained("read", name, error)) from error
        found = job.status.conditions if job.status is not None else None
        conditions = {c.type: c for c in found or [] if c.status == "True"}
        failed = conditions.get("Failed")
        return JobView(
            name=name,
            complete="Complete" in conditions,
            failed=failed is not None,
            failure=f"{failed.reason}: {failed.message}" if failed is not None else "",
            pods=tuple(_pod_view(pod) for pod in pods.items),
        )


def _pod_view(pod: Any) -> PodView:
    annotations = pod.metadata.annotations or {}
    index = annotations.get(INDEX_ANNOTATION)
    statuses = pod.status.container_statuses or []
    terminated = statuses[0].state.terminated if statuses and statuses[0].state else None
    created = pod.metadata.creation_timestamp
    return PodView(
        index=int(index) if isinstance(index, str) and index.isdigit() else None,
        phase=pod.status.phase or "",
        message=(terminated.message or "") if terminated is not None else "",
        created=created.isoformat() if created is not None else "",
    )


def _explained(verb: str, name: str, error: client.ApiException) -> str:
    return f"cannot {verb} Job {name}: {error.status} {error.reason}"
