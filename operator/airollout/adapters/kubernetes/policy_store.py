"""Policy versions as ConfigMaps: `airollout-policy-v<N>` each, and `airollout-policy` for the
one in force.

A version, once written, is never changed: it is the record of what changed and why. The
pointer is written only when a version is applied (`airollout feedback run --apply`), so a
proposal waits for a person unless the loop is configured to apply it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import urllib3
from kubernetes import client

from airollout.core.feedback.policy import Policy, PolicyError
from airollout.core.resource.names import GROUP

POLICY_LABEL = f"{GROUP}/policy"
VERSION_LABEL = f"{GROUP}/policy-version"
CURRENT_NAME = "airollout-policy"
POLICY_KEY = "policy.json"
CHANGES_KEY = "changes.md"
VERSION_KEY = "version"


class PolicyStoreError(Exception):
    """The store could not be read or written; the message names the ConfigMap."""


@dataclass(frozen=True)
class StoredPolicies:
    versions: tuple[Policy, ...]  # oldest first
    current: int | None  # the applied version; None: none applied yet

    @property
    def newest(self) -> Policy | None:
        return self.versions[-1] if self.versions else None


def version_name(version: int) -> str:
    return f"{CURRENT_NAME}-v{version}"


class PolicyStore:
    def __init__(self, core: client.CoreV1Api, namespace: str) -> None:
        self.core, self.namespace = core, namespace

    def read(self) -> StoredPolicies:
        with _errors(f"policies in {self.namespace}"):
            listed = self.core.list_namespaced_config_map(
                self.namespace, label_selector=f"{POLICY_LABEL}=version"
            )
            versions = sorted(
                (_policy_of(item) for item in listed.items), key=lambda policy: policy.version
            )
            return StoredPolicies(tuple(versions), self._current())

    def _current(self) -> int | None:
        try:
            pointer = self.core.read_namespaced_config_map(CURRENT_NAME, self.namespace)
        except client.ApiException as error:
            if error.status == 404:
                return None
            raise
        text = (pointer.data or {}).get(VERSION_KEY, "")
        return int(text) if text.isdigit() else None

    def write(self, policy: Policy) -> str:
        """Create the version's ConfigMap; one already there (a rerun) is left as it is."""
        name = version_name(policy.version)
        body = self._config_map(name, "version", policy)
        with _errors(f"ConfigMap {self.namespace}/{name}"):
            try:
                self.core.create_namespaced_config_map(self.namespace, body)
            except client.ApiException as error:
                if error.status != 409:
                    raise
        return name

    def apply(self, policy: Policy) -> None:
        """Point `airollout-policy` at this version (its whole JSON, for readers)."""
        body = self._config_map(CURRENT_NAME, "current", policy)
        with _errors(f"ConfigMap {self.namespace}/{CURRENT_NAME}"):
            try:
                self.core.replace_namespaced_config_map(CURRENT_NAME, self.namespace, body)
            except client.ApiException as error:
                if error.status != 404:
                    raise
                self.core.create_namespaced_config_map(self.namespace, body)

    def _config_map(self, name: str, role: str, policy: Policy) -> client.V1ConfigMap:
        changes = "".join(f"- {change}\n" for change in policy.changes)
        return client.V1ConfigMap(
            metadata=client.V1ObjectMeta(
                name=name,
                namespace=self.namespace,
                labels={POLICY_LABEL: role, VERSION_LABEL: str(policy.version)},
            ),
            data={
                VERSION_KEY: str(policy.version),
                POLICY_KEY: json.dumps(policy.to_json(), indent=2, sort_keys=True) + "\n",
                CHANGES_KEY: changes,
            },
        )


def _policy_of(item: client.V1ConfigMap) -> Policy:
    metadata = item.metadata or client.V1ObjectMeta()
    try:
        return Policy.from_json(json.loads((item.data or {}).get(POLICY_KEY, "")))
    except (ValueError, PolicyError) as error:
        where = f"ConfigMap {metadata.namespace}/{metadata.name}"
        raise PolicyStoreError(f"{where}: {error}") from error


@contextlib.contextmanager
def _errors(about: str) -> Iterator[None]:
    """API failures leave as PolicyStoreError naming what was being read or written."""
    try:
        yield
    except client.ApiException as error:
        raise PolicyStoreError(f"{about}: {error.status} {error.reason}") from error
    except urllib3.exceptions.HTTPError as error:
        raise PolicyStoreError(f"{about}: {error}") from error
