"""One key of one Secret, read by name: how the judges get an LLM endpoint's API key."""

from __future__ import annotations

import base64

from kubernetes import client


def secret_value(
    core: client.CoreV1Api, namespace: str, name: str, key: str
) -> tuple[str, str | None]:
    """The key's value and no error, or no value and a sentence that never quotes the value.

    Read by name only: the operator's RBAC grants `get` on named Secrets, never `list`.
    """
    try:
        secret = core.read_namespaced_secret(name, namespace)
    except client.ApiException as error:
        return "", f"cannot read Secret {namespace}/{name}: HTTP {error.status}"
    encoded = (secret.data or {}).get(key)
    if encoded is None:
        return "", f"Secret {namespace}/{name} has no key {key!r}"
    return base64.b64decode(encoded).decode(), None
