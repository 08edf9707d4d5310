"""The judge's evidence between two calls of one analysis, kept in the cluster.

Argo Rollouts asks once per interval and remembers nothing of our answers, so the
sequential test's state lives in a ConfigMap per (Rollout, canary pod-template-hash): a
restarted operator, or another replica behind the same Service, carries on the same test.
Every write names the resourceVersion it read, so two calls racing for one window cannot
both count: the loser gets `EvidenceConflictError` and Argo asks again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from kubernetes import client

from airollout.core.decision_log_layout import rollout_label_value
from airollout.core.resource.names import GROUP
from airollout.core.rollout.timeline import from_rfc3339

EVIDENCE_LABEL = f"{GROUP}/analysis-evidence"
ARGO_ROLLOUT_LABEL = f"{GROUP}/argo-rollout"
CANARY_HASH_LABEL = f"{GROUP}/canary-hash"
DATA_KEY = "evidence.json"
NAME_LIMIT = 253


class EvidenceConflictError(Exception):
    """Someone else wrote this analysis's evidence since it was read."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where one canary's analysis stands after `windows` judged windows."""

    windows: int
    first_start: str  # RFC 3339: warm-up counts from here
    last_end: str  # RFC 3339: the next window starts here
    state: dict[str, Any] = field(default_factory=dict)  # the judge's, as it returned it
    version: str | None = None  # resourceVersion it was read at; None: not stored yet

    def to_json(self) -> str:
        shown = {"windows": self.windows, "firstStart": self.first_start}
        return json.dumps({**shown, "lastEnd": self.last_end, "state": self.state})

    @classmethod
    def from_json(cls, text: str, version: str | None) -> Evidence:
        data = json.loads(text)
        return cls(
            windows=int(data["windows"]),
            first_start=str(data["firstStart"]),
            last_end=str(data["lastEnd"]),
            state=dict(data["state"]),
            version=version,
        )


class EvidenceStore(Protocol):
    def load(self, namespace: str, rollout: str, canary_hash: str) -> Evidence | None: ...

    def save(self, namespace: str, rollout: str, canary_hash: str, evidence: Evidence) -> None:
        """Store `evidence`, or raise EvidenceConflictError if its `version` is not current."""


def config_map_name(rollout: str, canary_hash: str) -> str:
    suffix = f"-{canary_hash}-analysis"
    return f"{rollout[: NAME_LIMIT - len(suffix)]}{suffix}"


class ConfigMapEvidence:
    """Evidence as ConfigMaps, labelled with the Rollout and the canary's hash."""

    def __init__(self, core: client.CoreV1Api) -> None:
        self.core = core

    def load(self, namespace: str, rollout: str, canary_hash: str) -> Evidence | None:
        try:
            found = self.core.read_namespaced_config_map(
                config_map_name(rollout, canary_hash), namespace
            )
        except client.ApiException as error:
            if error.status == 404:
                return None
            raise
        text = (found.data or {}).get(DATA_KEY)
        if text is None:
            return None
        return Evidence.from_json(text, found.metadata.resource_version if found.metadata else None)

    def save(self, namespace: str, rollout: str, canary_hash: str, evidence: Evidence) -> None:
        name = config_map_name(rollout, canary_hash)
        body = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(
                name=name,
                labels={
                    EVIDENCE_LABEL: "true",
                    ARGO_ROLLOUT_LABEL: rollout_label_value(rollout),
                    CANARY_HASH_LABEL: canary_hash,
                },
                resource_version=evidence.version,
            ),
            data={DATA_KEY: evidence.to_json()},
        )
        try:
            if evidence.version is None:
                self.core.create_namespaced_config_map(namespace, body)
            else:
                # A patch that names the resourceVersion is refused (409) once the object
                # moved on, as an update would be; it needs no `update` permission.
                self.core.patch_namespaced_config_map(name, namespace, body)
        except client.ApiException as error:
            if error.status == 409:
                changed = f"ConfigMap {namespace}/{name} changed meanwhile"
                raise EvidenceConflictError(changed) from None
            raise

    def prune(self, namespaces: Sequence[str], cutoff: datetime) -> list[str]:
        """Delete the evidence of analyses whose last window ended before `cutoff` (every
        namespace when `namespaces` is empty); returns them as namespace/name. Argo asks
        no more once a Rollout moved on, so nothing else would ever remove them."""
        scopes: Sequence[str | None] = namespaces or [None]
        deleted = []
        for scope in scopes:
            for found in self._listed(scope):
                meta = found.metadata
                if not _ended_before(found, cutoff):
                    continue
                try:
                    self.core.delete_namespaced_config_map(meta.name, meta.namespace)
                except client.ApiException as error:
                    if error.status != 404:
                        raise
                deleted.append(f"{meta.namespace}/{meta.name}")
        return deleted

    def _listed(self, namespace: str | None) -> list[Any]:
        selector = f"{EVIDENCE_LABEL}=true"
        if namespace is None:
            return list(self.core.list_config_map_for_all_namespaces(label_selector=selector).items)
        return list(self.core.list_namespaced_config_map(namespace, label_selector=selector).items)


def _ended_before(found: Any, cutoff: datetime) -> bool:
    """Unreadable evidence counts by the object's age, so it cannot linger forever."""
    try:
        evidence = Evidence.from_json((found.data or {})[DATA_KEY], None)
        return from_rfc3339(evidence.last_end) < cutoff
    except (KeyError, ValueError, TypeError):
        created = found.metadata.creation_timestamp
        return created is not None and created < cutoff
