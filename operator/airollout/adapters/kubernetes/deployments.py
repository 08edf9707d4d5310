"""Deployments as plain dicts over the Kubernetes API, with errors people can read.

The generic object API is used instead of AppsV1Api's typed models so a Deployment reads and
writes in its camelCase wire form: nothing the typed model does not know is dropped on a
round trip, and templates hash the same as the apiserver stores them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes import client

from airollout.adapters.kubernetes.deployment_cache import DeploymentCache
from airollout.adapters.traffic.router import RouterError

Deployment = dict[str, Any]

GROUP, VERSION, PLURAL = "apps", "v1", "deployments"
MERGE_PATCH = "application/merge-patch+json"


class DeploymentConflictError(Exception):
    """The object changed since it was read (HTTP 409): re-read it and decide again."""


class DeploymentAPI:
    """get / create / patch / replace / delete of Deployments in one namespace.

    With a `cache`, reads come from its watch when it has the namespace, and what every
    write answers goes into it; writes always go to the API server.
    """

    def __init__(
        self, api_client: client.ApiClient, namespace: str, cache: DeploymentCache | None = None
    ) -> None:
        self._objects = client.CustomObjectsApi(api_client)
        self.namespace, self.cache = namespace, cache

    def get(self, name: str) -> Deployment | None:
        """The Deployment, or None when it does not exist. A cache's miss is asked again:
        the object may be newer than the watch, and "missing" can fail a rollout."""
        if self.cache is not None:
            _, found = self.cache.lookup(self.namespace, name)
            if found is not None:
                return found
        return self.read(name)

    def read(self, name: str) -> Deployment | None:
        """The Deployment as the API server has it now (a GET), or None."""
        try:
            found = self._objects.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, name
            )
        except client.ApiException as error:
            if error.status == 404:
                return None
            raise self._error("read", name, error) from None
        except urllib3.exceptions.HTTPError as error:
            raise _unreachable(error) from None
        return _as_deployment(found, "read", name)

    def create(self, body: Deployment) -> Deployment:
        name = body["metadata"]["name"]
        return self._call("create", name, lambda: self._objects.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, body
        ))  # fmt: skip

    def patch(self, name: str, patch: dict[str, Any]) -> Deployment:
        """A JSON merge patch; put metadata.resourceVersion in it to fail on a stale read."""
        return self._call("patch", name, lambda: self._objects.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, name, patch, _content_type=MERGE_PATCH
        ))  # fmt: skip

    def replace(self, body: Deployment) -> Deployment:
        """PUT the whole object; its metadata.resourceVersion makes a stale write a conflict."""
        name = body["metadata"]["name"]
        return self._call("replace", name, lambda: self._objects.replace_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, name, body
        ))  # fmt: skip

    def delete(self, name: str) -> None:
        """Delete it and, before it disappears, its pods (foreground); gone already is fine."""
        try:
            self._objects.delete_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, name, propagation_policy="Foreground"
            )
        except client.ApiException as error:
            if error.status != 404:
                raise self._error("delete", name, error) from None
        except urllib3.exceptions.HTTPError as error:
            raise _unreachable(error) from None

    def _call(self, verb: str, name: str, request: Callable[[], object]) -> Deployment:
        try:
            written = _as_deployment(request(), verb, name)
        except client.ApiException as error:
            if error.status == 409:
                raise DeploymentConflictError(
                    f"Deployment {self.namespace}/{name} changed meanwhile"
                ) from None
            raise self._error(verb, name, error) from None
        except urllib3.exceptions.HTTPError as error:
            raise _unreachable(error) from None
        if self.cache is not None:
            self.cache.store(written)
        return written

    def _error(self, verb: str, name: str, error: client.ApiException) -> RouterError:
        return RouterError(
            f"could not {verb} Deployment {self.namespace}/{name}: "
            f"{error.status} {error.reason}: {_api_message(error)}"
        )


def _as_deployment(answer: object, verb: str, name: str) -> Deployment:
    if not isinstance(answer, dict):
        raise RouterError(f"{verb} Deployment {name}: the apiserver answered {answer!r}")
    return answer


def _api_message(error: client.ApiException) -> str:
    """The apiserver's own sentence from a Status body, else whatever the body is."""
    try:
        status = json.loads(error.body or "")
    except (TypeError, ValueError):
        return str(error.body or "no details")
    if isinstance(status, dict) and status.get("message"):
        return str(status["message"])
    return str(error.body)


def _unreachable(error: Exception) -> RouterError:
    return RouterError(f"cannot reach the Kubernetes API: {error}")


def is_scaled_to(deployment: Deployment, replicas: int, *, updated: bool = False) -> bool:
    """The Deployment runs exactly `replicas` ready pods for its current spec.

    `updated` also requires all of them on the current template (a just-created or edited
    Deployment); without it, pods of an earlier template count, as for a target that is only
    being scaled.
    """
    spec, status = deployment.get("spec", {}), deployment.get("status") or {}
    counts = [status.get("readyReplicas") or 0, status.get("replicas") or 0]
    if updated:
        counts.append(status.get("updatedReplicas") or 0)
    return (
        spec.get("replicas") == replicas
        and _observed(deployment)
        and all(count == replicas for count in counts)
    )


def is_available(deployment: Deployment) -> bool:
    """Every replica runs the current template and is available: a finished rollout."""
    wanted = deployment.get("spec", {}).get("replicas", 1)
    available = (deployment.get("status") or {}).get("availableReplicas") or 0
    return available == wanted and is_scaled_to(deployment, wanted, updated=True)


def _observed(deployment: Deployment) -> bool:
    observed = (deployment.get("status") or {}).get("observedGeneration") or 0
    return bool(observed >= deployment.get("metadata", {}).get("generation", 0))
