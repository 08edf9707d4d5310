"""What the replica-ratio router remembers about a target, kept in the target's annotations.

The router holds nothing in memory, so a restarted operator (or a second replica of it)
finds the stable replica count and the template it started from on the Deployment itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from airollout.adapters.kubernetes.deployments import DeploymentAPI
from airollout.adapters.traffic.router import RouterError

PREFIX = "airollout.dev/"
ROLLOUT = PREFIX + "rollout"
STABLE_REPLICAS = PREFIX + "stable-replicas"
STABLE_TEMPLATE_HASH = PREFIX + "stable-template-hash"
STABLE_IMAGES = PREFIX + "stable-images"
# Set when promote writes the new template: from then on the template differs from the
# stable hash on purpose, and a restarted promote knows not to write it again.
PROMOTED_TEMPLATE_HASH = PREFIX + "promoted-template-hash"
# Written with the new template, so that a rollback during promotion can put the old one back.
TEMPLATE_BEFORE_PROMOTION = PREFIX + "template-before-promotion"
# The `spec.revision` of the last rollout that promoted onto this target: the base the next
# rollout's selection Job diffs from. Not in ALL: it outlives the record of one rollout.
PROMOTED_REVISION = PREFIX + "promoted-revision"
ALL = (
    ROLLOUT,
    STABLE_REPLICAS,
    STABLE_TEMPLATE_HASH,
    STABLE_IMAGES,
    PROMOTED_TEMPLATE_HASH,
    TEMPLATE_BEFORE_PROMOTION,
)


@dataclass(frozen=True, slots=True)
class StableRecord:
    """The target as it was before the rollout touched it."""

    rollout: str  # the AIRollout that wrote this record
    replicas: int
    template_hash: str
    images: Mapping[str, str]  # container name -> image, to say what someone else changed
    promoted_template_hash: str | None = None
    template_before_promotion: Mapping[str, Any] | None = None

    @property
    def promoting(self) -> bool:
        return self.promoted_template_hash is not None

    def annotations(self) -> dict[str, str]:
        written = {
            ROLLOUT: self.rollout,
            STABLE_REPLICAS: str(self.replicas),
            STABLE_TEMPLATE_HASH: self.template_hash,
            STABLE_IMAGES: json.dumps(dict(self.images), sort_keys=True),
        }
        if self.promoted_template_hash is not None:
            written[PROMOTED_TEMPLATE_HASH] = self.promoted_template_hash
        if self.template_before_promotion is not None:
            written[TEMPLATE_BEFORE_PROMOTION] = json.dumps(self.template_before_promotion)
        return written


def read_record(deployment: Mapping[str, Any]) -> StableRecord | None:
    """The record on `deployment`, or None when no rollout has written one."""
    annotations = deployment.get("metadata", {}).get("annotations") or {}
    if STABLE_REPLICAS not in annotations:
        return None
    name = deployment.get("metadata", {}).get("name")
    try:
        images = json.loads(annotations.get(STABLE_IMAGES, "{}"))
        replicas = int(annotations[STABLE_REPLICAS])
        before = annotations.get(TEMPLATE_BEFORE_PROMOTION)
        template_before_promotion = None if before is None else json.loads(before)
    except ValueError as error:
        raise RouterError(
            f"Deployment {name}: an airollout.dev/ annotation is not what the router wrote "
            f"({error}); remove the airollout.dev/ annotations by hand"
        ) from None
    return StableRecord(
        rollout=annotations.get(ROLLOUT, ""),
        replicas=replicas,
        template_hash=annotations.get(STABLE_TEMPLATE_HASH, ""),
        images={str(k): str(v) for k, v in images.items()},
        promoted_template_hash=annotations.get(PROMOTED_TEMPLATE_HASH),
        template_before_promotion=template_before_promotion,
    )


def forget_patch() -> dict[str, Any]:
    """A merge patch that removes every annotation the router wrote."""
    return {"metadata": {"annotations": dict.fromkeys(ALL)}}


def written_on(deployment: Mapping[str, Any]) -> bool:
    """Whether any annotation of the router's is on `deployment`."""
    annotations = deployment.get("metadata", {}).get("annotations") or {}
    return any(key in annotations for key in ALL)


def promoted_patch(deployment: Mapping[str, Any], revision: str | None) -> dict[str, Any] | None:
    """The merge patch that ends a promotion: the record forgotten, the revision promoted
    remembered (or forgotten, when the rollout named none). None when both already hold."""
    annotations = deployment.get("metadata", {}).get("annotations") or {}
    remembered = annotations.get(PROMOTED_REVISION)
    if not written_on(deployment) and remembered == (revision or None):
        return None
    patch = forget_patch()
    patch["metadata"]["annotations"][PROMOTED_REVISION] = revision or None
    return patch


def promoted_revision(api_client: client.ApiClient, namespace: str, name: str) -> str | None:
    """The revision last promoted onto Deployment `namespace/name`; None: none known, or
    no such Deployment."""
    deployment = DeploymentAPI(api_client, namespace).get(name)
    if deployment is None:
        return None
    annotations = deployment.get("metadata", {}).get("annotations") or {}
    return annotations.get(PROMOTED_REVISION) or None
