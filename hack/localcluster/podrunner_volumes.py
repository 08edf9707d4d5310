"""A pod's volumes as folders, and how a path in the container maps to a host path.

There are no mount namespaces, so a volume cannot appear at its mountPath: the process sees
the host's file system. Each volume is a folder under the pod's directory instead, and the
container learns where through its environment: `AIROLLOUT_VOLUME_<NAME>` (the volume's
name upper-cased, other characters as `_`) holds the mount's host folder, and
`AIROLLOUT_MOUNTS` a JSON object from each mountPath to its folder. The runner itself maps
paths it reads or creates (workingDir, terminationMessagePath) by the same rule: a path
under a mountPath lies in that volume's folder, any other path is the host path itself.
"""

import json
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from localcluster.podrunner_env import ConfigError, Lookup, field_value

SERVICE_ACCOUNT_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_TOKEN_SECONDS = 3607

# (namespace, service account, audience or "", seconds, pod) -> a bound token
TokenSource = Callable[[str, str, str, int, dict[str, Any]], str]


def env_name(volume: str) -> str:
    return "AIROLLOUT_VOLUME_" + re.sub(r"[^A-Za-z0-9]", "_", volume).upper()


def _write(folder: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def _selected(data: dict[str, str], items: list[dict[str, Any]] | None) -> dict[str, str]:
    if not items:
        return data
    return {item["path"]: data[item["key"]] for item in items if item["key"] in data}


def _object_files(
    kind: str, source: dict[str, Any], namespace: str, lookup: Lookup
) -> dict[str, str]:
    name = source.get("name") or source.get("secretName", "")
    data = lookup(kind, namespace, name)
    if data is None:
        if source.get("optional"):
            return {}
        raise ConfigError(f"volume needs {kind[:-1]} {name!r} in namespace {namespace}")
    return _selected(data, source.get("items"))


def _projection(
    source: dict[str, Any], pod: dict[str, Any], lookup: Lookup, tokens: TokenSource
) -> dict[str, str]:
    namespace = pod["metadata"]["namespace"]
    if "serviceAccountToken" in source:
        token = source["serviceAccountToken"]
        account = pod["spec"].get("serviceAccountName") or "default"
        seconds = int(token.get("expirationSeconds", DEFAULT_TOKEN_SECONDS))
        value = tokens(namespace, account, token.get("audience", ""), seconds, pod)
        return {token["path"]: value}
    if "configMap" in source:
        return _object_files("configmaps", source["configMap"], namespace, lookup)
    if "secret" in source:
        return _object_files("secrets", source["secret"], namespace, lookup)
    if "downwardAPI" in source:
        return _downward(source["downwardAPI"], pod)
    raise ConfigError(f"projected source {sorted(source)} is not supported by the pod runner")


def _downward(source: dict[str, Any], pod: dict[str, Any]) -> dict[str, str]:
    files = {}
    for item in source.get("items") or []:
        if "fieldRef" not in item:
            raise ConfigError("downwardAPI: only fieldRef items are supported")
        files[item["path"]] = field_value(pod, item["fieldRef"]["fieldPath"])
    return files


def prepare(
    pod: dict[str, Any], pod_dir: Path, lookup: Lookup, tokens: TokenSource
) -> dict[str, Path]:
    """Make every volume's folder and fill it; returns each volume's folder by name."""
    namespace = pod["metadata"]["namespace"]
    folders = {}
    for volume in pod["spec"].get("volumes") or []:
        folder = pod_dir / "volumes" / volume["name"]
        folder.mkdir(parents=True, exist_ok=True)
        if "hostPath" in volume:
            folder = Path(volume["hostPath"]["path"])
        elif "configMap" in volume:
            _write(folder, _object_files("configmaps", volume["configMap"], namespace, lookup))
        elif "secret" in volume:
            _write(folder, _object_files("secrets", volume["secret"], namespace, lookup))
        elif "projected" in volume:
            for source in volume["projected"].get("sources") or []:
                _write(folder, _projection(source, pod, lookup, tokens))
        elif "downwardAPI" in volume:
            _write(folder, _downward(volume["downwardAPI"], pod))
        elif "emptyDir" not in volume:
            raise ConfigError(f"volume {volume['name']}: only emptyDir, configMap, secret, "
                              "projected, downwardAPI and hostPath are supported")  # fmt: skip
        folders[volume["name"]] = folder
    return folders


def mounts(container: dict[str, Any], folders: dict[str, Path]) -> dict[str, Path]:
    """Each mountPath of the container and the host folder it stands for."""
    mapped = {}
    for mount in container.get("volumeMounts") or []:
        if mount["name"] not in folders:
            raise ConfigError(f"volumeMount {mount['mountPath']}: no volume {mount['name']!r}")
        mapped[mount["mountPath"]] = folders[mount["name"]] / mount.get("subPath", "")
    return mapped


def host_path(path: str, mapped: dict[str, Path]) -> Path:
    """The host path of `path` as the container names it (longest mountPath first)."""
    target = PurePosixPath(path)
    for mount_path in sorted(mapped, key=len, reverse=True):
        if target == PurePosixPath(mount_path) or PurePosixPath(mount_path) in target.parents:
            return mapped[mount_path] / target.relative_to(mount_path)
    return Path(path)


def mount_env(container: dict[str, Any], mapped: dict[str, Path]) -> dict[str, str]:
    env = {"AIROLLOUT_MOUNTS": json.dumps({path: str(folder) for path, folder in mapped.items()})}
    for mount in container.get("volumeMounts") or []:
        env[env_name(mount["name"])] = str(mapped[mount["mountPath"]])
    if SERVICE_ACCOUNT_MOUNT in mapped:
        env["AIROLLOUT_SERVICEACCOUNT_DIR"] = str(mapped[SERVICE_ACCOUNT_MOUNT])
    return env
