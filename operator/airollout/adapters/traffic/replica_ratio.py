"""The replica-ratio router: traffic follows the share of pods each version runs.

The canary is a second Deployment, `<target>-canary`, whose pods carry the target's pod
labels plus `airollout.dev/version: canary`. A Service that selects the target's labels
therefore sends requests to the pods of both, and each version's share of traffic is its
share of ready pods, set by `split_replicas`. Everything the router must remember lives in
annotations on the target (see `remembered`), so every call starts from the cluster alone.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from kubernetes import client

from airollout.adapters.kubernetes.deployment_cache import DeploymentCache
from airollout.adapters.kubernetes.deployments import (
    Deployment,
    DeploymentAPI,
    DeploymentConflictError,
    is_available,
    is_scaled_to,
)
from airollout.adapters.traffic import target_annotations
from airollout.adapters.traffic.canary_template import (
    build_template,
    container_images,
    describe_change,
    template_hash,
)
from airollout.adapters.traffic.router import (
    RolloutTarget,
    RouterError,
    TargetChangedError,
    TargetMissingError,
)
from airollout.adapters.traffic.target_annotations import StableRecord, read_record
from airollout.core.analysis.types import Version
from airollout.core.resource.crd import GROUP, KIND, VERSION
from airollout.core.resource.names import ROLLOUT_LABEL, VERSION_LABEL
from airollout.core.rollout.replica_split import split_replicas

ROLE_LABEL = f"{GROUP}/role"
CANARY_TEMPLATE_HASH = f"{GROUP}/template-hash"
OWNER_API_VERSION = f"{GROUP}/{VERSION}"
# Target spec fields the canary copies so its pods roll out and count as ready the same way.
COPIED_SPEC_FIELDS = ("minReadySeconds", "progressDeadlineSeconds", "strategy")


def canary_name(target: RolloutTarget) -> str:
    return f"{target.target}-canary"


class ReplicaRatioRouter:
    """`TrafficRouter` by replica counts, through the official (synchronous) client."""

    def __init__(
        self, api_client: client.ApiClient, deployments: DeploymentCache | None = None
    ) -> None:
        """`deployments`: a watch-backed cache to read from instead of GETting each time."""
        self._api_client, self._cache = api_client, deployments

    def _api(self, target: RolloutTarget) -> DeploymentAPI:
        return DeploymentAPI(self._api_client, target.namespace, self._cache)

    def workloads(self, target: RolloutTarget) -> dict[Version, str]:
        return {Version.CANARY: canary_name(target), Version.STABLE: target.target}

    def set_weight(self, target: RolloutTarget, weight: int) -> bool:
        """Scale canary and target to `weight` percent of the target's original replicas.

        Writes only what differs, so a repeated call changes nothing. False while a write
        lost a race (409) or the pods are not there yet; the next call carries on.
        """
        api = self._api(target)
        try:
            stable = _read_target(api, target)
            stable, record = _remember(api, target, stable)
            if record.promoting:
                raise RouterError(
                    f"Deployment {target.namespace}/{target.target} is being promoted: "
                    "its traffic weight can no longer change"
                )
            _check_unchanged(target, stable, record)
            stable_replicas, canary_replicas = split_replicas(record.replicas, weight)
            canary = _canary_scaled(api, target, stable, canary_replicas)
            stable = _scaled(api, stable, stable_replicas)
        except DeploymentConflictError:
            return False
        return canary is not None and (
            is_scaled_to(canary, canary_replicas, updated=True)
            and is_scaled_to(stable, stable_replicas)
        )

    def rollback(self, target: RolloutTarget) -> bool:
        """Restore the target's replicas and delete the canary, both at once.

        Works from whatever a crash left. When the target is gone, the canary is still
        deleted before TargetMissingError is raised.
        """
        api = self._api(target)
        try:
            stable = api.get(target.target)
            if stable is not None:
                _restore(api, target, stable)
            canary_gone = _delete_canary(api, target)
        except DeploymentConflictError:
            return False
        if stable is None:
            raise TargetMissingError(target.namespace, target.target)
        return canary_gone

    def promote(self, target: RolloutTarget) -> bool:
        """Write the new template into the target at its original replicas; once that is
        available everywhere, delete the canary, then forget the record and remember the
        revision promoted (the next rollout's selection base). True at the end."""
        api = self._api(target)
        try:
            stable = _read_target(api, target)
            record = read_record(stable)
            if record is None or not record.promoting:
                stable = _write_new_template(api, target, stable, record)
            if not is_available(stable) or not _delete_canary(api, target):
                return False
            finished = target_annotations.promoted_patch(stable, target.spec.revision)
            if finished is not None:
                api.patch(target.target, _on_version(finished, stable))
        except DeploymentConflictError:
            return False
        return True


def _read_target(api: DeploymentAPI, target: RolloutTarget) -> Deployment:
    stable = api.get(target.target)
    if stable is None:
        raise TargetMissingError(target.namespace, target.target)
    return stable


def _remember(
    api: DeploymentAPI, target: RolloutTarget, stable: Deployment
) -> tuple[Deployment, StableRecord]:
    """The target's record, written first if this is the rollout's first step."""
    record = read_record(stable)
    if record is not None:
        if record.rollout != target.rollout:
            raise RouterError(
                f"Deployment {target.namespace}/{target.target} is already being rolled out "
                f"by AIRollout {record.rollout}"
            )
        return stable, record
    template = stable["spec"]["template"]
    record = StableRecord(
        rollout=target.rollout,
        replicas=stable["spec"].get("replicas", 1),
        template_hash=template_hash(template),
        images=container_images(template),
    )
    # resourceVersion makes this a compare-and-swap: the count recorded is the count that
    # was there, not one someone changed between our read and this write.
    metadata = {"resourceVersion": stable["metadata"]["resourceVersion"]}
    patch = {"metadata": {**metadata, "annotations": record.annotations()}}
    return api.patch(target.target, patch), record


def _check_unchanged(target: RolloutTarget, stable: Deployment, record: StableRecord) -> None:
    template = stable["spec"]["template"]
    if template_hash(template) != record.template_hash:
        change = describe_change(record.images, container_images(template))
        raise TargetChangedError(
            f"Deployment {target.namespace}/{target.target} was changed by someone else "
            f"during the rollout: {change}. Roll back, then start a new AIRollout."
        )


def _canary_template(target: RolloutTarget, stable: Deployment) -> dict[str, Any]:
    template = build_template(stable["spec"]["template"], target.spec.template)
    template.setdefault("metadata", {}).setdefault("labels", {})[VERSION_LABEL] = "canary"
    return template


def _owned_by_rollout(deployment: Deployment, target: RolloutTarget) -> bool:
    owners = deployment["metadata"].get("ownerReferences") or []
    return any(owner.get("uid") == target.rollout_uid for owner in owners)


def _canary_scaled(
    api: DeploymentAPI, target: RolloutTarget, stable: Deployment, replicas: int
) -> Deployment | None:
    """The canary on the current template at `replicas`, creating or fixing it if needed;
    None while an earlier canary is still being deleted."""
    template = _canary_template(target, stable)
    wanted_hash = template_hash(template)
    canary = api.get(canary_name(target))
    if canary is None:
        return api.create(_new_canary(target, stable, template, wanted_hash, replicas))
    if not _owned_by_rollout(canary, target):
        raise RouterError(
            f"Deployment {target.namespace}/{canary_name(target)} exists and is not the canary "
            f"of AIRollout {target.rollout}: rename or delete it"
        )
    if canary["metadata"].get("deletionTimestamp"):
        return None
    annotations = canary["metadata"].setdefault("annotations", {})
    if annotations.get(CANARY_TEMPLATE_HASH) != wanted_hash:
        # The rollout's spec.template changed: the canary runs the new change from now on.
        annotations[CANARY_TEMPLATE_HASH] = wanted_hash
        canary["spec"]["template"], canary["spec"]["replicas"] = template, replicas
        return api.replace(canary)
    return _scaled(api, canary, replicas)


def _new_canary(
    target: RolloutTarget, stable: Deployment, template: dict[str, Any], hash_: str, replicas: int
) -> Deployment:
    selector = copy.deepcopy(stable["spec"]["selector"])
    selector.setdefault("matchLabels", {})[VERSION_LABEL] = "canary"
    owner = {
        "apiVersion": OWNER_API_VERSION,
        "kind": KIND,
        "name": target.rollout,
        "uid": target.rollout_uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
    spec = {key: stable["spec"][key] for key in COPIED_SPEC_FIELDS if key in stable["spec"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": canary_name(target),
            "namespace": target.namespace,
            "labels": {ROLLOUT_LABEL: target.rollout, ROLE_LABEL: "canary"},
            "annotations": {CANARY_TEMPLATE_HASH: hash_},
            "ownerReferences": [owner],
        },
        "spec": {**spec, "replicas": replicas, "selector": selector, "template": template},
    }


def _scaled(api: DeploymentAPI, deployment: Deployment, replicas: int) -> Deployment:
    if deployment["spec"].get("replicas") == replicas:
        return deployment
    return api.patch(deployment["metadata"]["name"], {"spec": {"replicas": replicas}})


def _restore(api: DeploymentAPI, target: RolloutTarget, stable: Deployment) -> None:
    """Put back the target's replica count (and its template, if promotion had replaced it)
    and forget the record, unless there is none or it belongs to another rollout."""
    record = read_record(stable)
    if record is None or record.rollout != target.rollout:
        return
    if record.template_before_promotion is None:
        patch = target_annotations.forget_patch()
        patch["spec"] = {"replicas": record.replicas}
        api.patch(target.target, _on_version(patch, stable))
        return
    # A whole replace, not a merge patch: fields the new template added must go too.
    restored = copy.deepcopy(stable)
    restored["spec"]["template"] = copy.deepcopy(dict(record.template_before_promotion))
    restored["spec"]["replicas"] = record.replicas
    annotations = restored["metadata"]["annotations"]
    for key in target_annotations.ALL:
        annotations.pop(key, None)
    api.replace(restored)


def _on_version(patch: dict[str, Any], read: Deployment) -> dict[str, Any]:
    """`patch`, applied only to the version it was decided on: the read may come from the
    cache, and what it decides (forget whose record) must not land on a newer target."""
    patch["metadata"]["resourceVersion"] = read["metadata"]["resourceVersion"]
    return patch


def _delete_canary(api: DeploymentAPI, target: RolloutTarget) -> bool:
    """Delete this rollout's canary; True once it (and, foreground, its pods) is gone."""
    canary = api.get(canary_name(target))
    if canary is None or not _owned_by_rollout(canary, target):
        return True
    if not canary["metadata"].get("deletionTimestamp"):
        api.delete(canary_name(target))
    return api.get(canary_name(target)) is None


def _write_new_template(
    api: DeploymentAPI, target: RolloutTarget, stable: Deployment, record: StableRecord | None
) -> Deployment:
    """Replace the target's template with the new one at its original replica count, and
    mark the record so a repeated promote does not write it again."""
    template = build_template(stable["spec"]["template"], target.spec.template)
    if record is None:
        # Nothing remembered: never scaled by us, or a finished promote forgot it already.
        if template == stable["spec"]["template"]:
            return stable
        replicas = stable["spec"].get("replicas", 1)
    else:
        _check_unchanged(target, stable, record)
        replicas = record.replicas
    updated = copy.deepcopy(stable)
    updated["spec"]["template"], updated["spec"]["replicas"] = template, replicas
    annotations = updated["metadata"].setdefault("annotations", {})
    if record is not None:
        promoting = replace(
            record,
            promoted_template_hash=template_hash(template),
            template_before_promotion=stable["spec"]["template"],
        )
        annotations.update(promoting.annotations())
    return api.replace(updated)
