"""The new version's pod template: the target's own template with the rollout's change applied.

Templates are plain dicts in the API's camelCase wire form, exactly as the apiserver returns
them, so nothing is lost through a typed model and what is hashed is what is stored.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from airollout.adapters.traffic.router import RouterError
from airollout.core.resource.spec import PodTemplate

PodTemplateDict = dict[str, Any]

# Lists that Kubernetes' strategic merge joins item by item on `name`; every other list in a
# patch replaces the list it lands on, as in a JSON merge patch.
LISTS_MERGED_BY_NAME = frozenset({"containers", "initContainers", "volumes", "env"})


def build_template(base: Mapping[str, Any], change: PodTemplate) -> PodTemplateDict:
    """The target's pod template `base` with `change` (a new image, or a patch) applied.

    `base` is left as it is. Raises RouterError when the change names a container that the
    template does not have, or when it is empty.
    """
    template = copy.deepcopy(dict(base))
    if change.image is not None:
        _container_named(template, change.container)["image"] = change.image
        return template
    if change.pod_template_patch is not None:
        return strategic_merge(template, change.pod_template_patch)
    raise RouterError("spec.template sets neither image nor podTemplatePatch: nothing to roll out")


def strategic_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """`patch` merged into `base` the way `kubectl patch --type strategic` does for pod templates.

    Dicts merge key by key; a None in the patch deletes the key; lists under the keys in
    LISTS_MERGED_BY_NAME merge item by item on `name` (a patch item with a new name is
    appended); other lists, and anything that is not a dict, replace what was there.
    """
    merged = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = strategic_merge(merged[key], value)
        elif key in LISTS_MERGED_BY_NAME and isinstance(value, list):
            merged[key] = _merge_named_items(merged.get(key) or [], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _merge_named_items(base: list[Any], patch: list[Any]) -> list[Any]:
    merged = copy.deepcopy(base)
    position = {item.get("name"): i for i, item in enumerate(merged) if isinstance(item, Mapping)}
    for item in patch:
        name = item.get("name") if isinstance(item, Mapping) else None
        if name is None:
            raise RouterError(
                f"podTemplatePatch: an item of a list merged by name has no name: {item}"
            )
        if name in position:
            merged[position[name]] = strategic_merge(merged[position[name]], item)
        else:
            position[name] = len(merged)
            merged.append(copy.deepcopy(item))
    return merged


def _container_named(template: PodTemplateDict, name: str | None) -> dict[str, Any]:
    containers: list[dict[str, Any]] = template.get("spec", {}).get("containers") or []
    if not containers:
        raise RouterError("the target's pod template has no containers to give the new image")
    if name is None:
        return containers[0]
    for container in containers:
        if container.get("name") == name:
            return container
    known = ", ".join(str(c.get("name")) for c in containers)
    raise RouterError(
        f"spec.template.container {name!r} is not in the target's pod template ({known})"
    )


def template_hash(template: Mapping[str, Any]) -> str:
    """A short fingerprint of a pod template that does not depend on key order."""
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def container_images(template: Mapping[str, Any]) -> dict[str, str]:
    """Each container's image by container name (init containers too, prefixed `init:`)."""
    spec = template.get("spec", {})
    images = {str(c.get("name")): str(c.get("image")) for c in spec.get("containers") or []}
    for init in spec.get("initContainers") or []:
        images[f"init:{init.get('name')}"] = str(init.get("image"))
    return images


def describe_change(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """In words, how the images went from `before` to `after` (from container_images)."""
    changes = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old != new:
            if old is None:
                changes.append(f"container {name} added with image {new}")
            elif new is None:
                changes.append(f"container {name} (image {old}) removed")
            else:
                changes.append(f"container {name} image {old} -> {new}")
    return "; ".join(changes) if changes else "its pod template changed (not the images)"
