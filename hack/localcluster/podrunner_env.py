"""A container's environment, as the kubelet builds it: `envFrom`, then `env` in order, with
`valueFrom` field, Secret and ConfigMap references and `$(VAR)` expansion.

A host process needs PATH, HOME and the like, which a container gets from its image; the
runner passes those few through from its own environment, and nothing else of it (no
KUBECONFIG: a pod must use its own ServiceAccount, not the runner's admin credentials).
"""

import base64
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from localcluster.podrunner_node import NODE_IP

PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME", "SHELL")
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")

# (kind, namespace, name) -> the object's data decoded to text, or None when it is missing.
Lookup = Callable[[str, str, str], dict[str, str] | None]


class ConfigError(Exception):
    """The container cannot start until something changes (a missing Secret, say); the
    kubelet's reason is CreateContainerConfigError."""


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: a defined variable is replaced, `$$` is one `$`, and a
    reference to an undefined variable stays as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        return env.get(name, match.group(0))

    return _REFERENCE.sub(replace, text)


def field_value(pod: dict[str, Any], path: str) -> str:
    metadata, spec, status = pod["metadata"], pod["spec"], pod.get("status", {})
    subscript = _SUBSCRIPT.match(path)
    if subscript:
        return str((metadata.get(subscript.group(1)) or {}).get(subscript.group(2), ""))
    values = {
        "metadata.name": metadata.get("name"),
        "metadata.namespace": metadata.get("namespace"),
        "metadata.uid": metadata.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        # Host network: both are the node's address, known before the runner's own status
        # write that reports them has landed (a container may start first).
        "status.hostIP": status.get("hostIP") or NODE_IP,
        "status.podIP": status.get("podIP") or NODE_IP,
    }
    if path not in values:
        raise ConfigError(f"fieldRef.fieldPath {path!r} is not supported by the pod runner")
    return str(values[path] or "")


def decoded(kind: str, obj: dict[str, Any]) -> dict[str, str]:
    if kind == "secrets":
        data = obj.get("data") or {}
        return {key: base64.b64decode(value).decode() for key, value in data.items()}
    return dict(obj.get("data") or {})


def _key_ref(kind: str, ref: dict[str, Any], namespace: str, lookup: Lookup) -> str | None:
    data = lookup(kind, namespace, ref["name"])
    if data is not None and ref["key"] in data:
        return data[ref["key"]]
    if ref.get("optional"):
        return None
    missing = f"key {ref['key']!r} in" if data is not None else "no"
    raise ConfigError(f"{missing} {kind[:-1]} {ref['name']!r} in namespace {namespace}")


def _value_from(var: dict[str, Any], pod: dict[str, Any], lookup: Lookup) -> str | None:
    source, namespace = var["valueFrom"], pod["metadata"]["namespace"]
    if "fieldRef" in source:
        return field_value(pod, source["fieldRef"]["fieldPath"])
    if "secretKeyRef" in source:
        return _key_ref("secrets", source["secretKeyRef"], namespace, lookup)
    if "configMapKeyRef" in source:
        return _key_ref("configmaps", source["configMapKeyRef"], namespace, lookup)
    raise ConfigError(f"env {var['name']}: valueFrom {sorted(source)} is not supported")


def _env_from(container: dict[str, Any], namespace: str, lookup: Lookup) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        kind, ref = ("secrets", source.get("secretRef"))
        if ref is None:
            kind, ref = ("configmaps", source["configMapRef"])
        data = lookup(kind, namespace, ref["name"])
        if data is None and not ref.get("optional"):
            raise ConfigError(f"no {kind[:-1]} {ref['name']!r} in namespace {namespace}")
        prefix = source.get("prefix", "")
        env.update({prefix + key: value for key, value in (data or {}).items()})
    return env


def container_env(
    pod: dict[str, Any], container: dict[str, Any], lookup: Lookup, base: Mapping[str, str]
) -> dict[str, str]:
    """The environment of one container's process, `base` (service and runner variables)
    first, so the pod's own definitions win."""
    env = dict(base)
    env.update(_env_from(container, pod["metadata"]["namespace"], lookup))
    for var in container.get("env") or []:
        if "valueFrom" in var:
            value = _value_from(var, pod, lookup)
            if value is None:
                continue
        else:
            value = expand(var.get("value", ""), env)
        env[var["name"]] = value
    return env


def passed_through() -> dict[str, str]:
    return {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}


def command_line(container: dict[str, Any], env: Mapping[str, str]) -> list[str]:
    """command + args, expanded; without a command there is no image entrypoint to fall
    back on, so the container cannot start."""
    command = container.get("command") or []
    if not command:
        raise ConfigError(
            f"container {container['name']} has no command: the pod runner runs host "
            "processes and ignores the image, so it cannot use the image's entrypoint"
        )
    return [expand(part, env) for part in [*command, *(container.get("args") or [])]]
