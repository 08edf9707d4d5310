"""Kubernetes API clients: the operator's set, built once, and the CLI's one client.

The operator prefers in-cluster credentials (it normally runs in a pod); the CLI prefers the
kubeconfig (it normally runs on a laptop) and also needs the context's namespace, so the
two are separate functions rather than one with flags.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes import config as _config

from airollout.adapters.kubernetes.rollout_objects import CommandError, one_line

config: Any = _config  # untyped package: one Any here instead of ignores at each call

DEFAULT_NAMESPACE = "default"
IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True)
class KubeClients:
    api: client.ApiClient
    core: client.CoreV1Api
    apps: client.AppsV1Api
    custom: client.CustomObjectsApi

    @classmethod
    def of(cls, api: client.ApiClient) -> KubeClients:
        return cls(api, client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api))


def operator_clients(
    kubeconfig: str | None = None, context: str | None = None, connections: int = 64
) -> KubeClients:
    """In-cluster credentials when running in a pod, else the kubeconfig (or $KUBECONFIG).

    `connections` sizes the HTTP pool: every worker thread reconciling at once holds one,
    and a smaller pool makes them open (and TLS-handshake) throwaway connections.
    """
    configuration = client.Configuration()
    if kubeconfig is None and context is None:
        try:
            config.load_incluster_config(client_configuration=configuration)
        except config.ConfigException:
            configuration = _from_kubeconfig(kubeconfig, context)
    else:
        configuration = _from_kubeconfig(kubeconfig, context)
    configuration.connection_pool_maxsize = connections
    return KubeClients.of(client.ApiClient(configuration))


def _from_kubeconfig(kubeconfig: str | None, context: str | None) -> client.Configuration:
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=kubeconfig, context=context, client_configuration=configuration
    )
    return configuration


def cli_client(kubeconfig: str | None, context: str | None) -> tuple[client.ApiClient, str]:
    """The CLI's API client for the chosen kubeconfig context, and that context's namespace.

    Falls back to in-cluster credentials only when no kubeconfig loads and none was named.
    Every failure is a CommandError in one line.
    """
    if kubeconfig is not None and not Path(kubeconfig).is_file():
        raise CommandError(f"kubeconfig {kubeconfig} is not a readable file")
    try:
        contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
        chosen = active if context is None else _named(contexts, context)
        api = config.new_client_from_config(config_file=kubeconfig, context=context)
    except (config.ConfigException, OSError, ValueError) as error:
        if kubeconfig is None and context is None and "KUBERNETES_SERVICE_HOST" in os.environ:
            return _in_cluster()
        raise CommandError(f"cannot load kubeconfig: {one_line(str(error))}") from error
    namespace = (chosen or {}).get("context", {}).get("namespace") or DEFAULT_NAMESPACE
    return api, namespace


def _named(contexts: list[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    for entry in contexts:
        if entry.get("name") == name:
            return entry
    raise config.ConfigException(f"context {name!r} is not in the kubeconfig")


def _in_cluster() -> tuple[client.ApiClient, str]:
    try:
        config.load_incluster_config()
        namespace = IN_CLUSTER_NAMESPACE.read_text().strip()
    except (config.ConfigException, OSError) as error:
        raise CommandError(f"no kubeconfig and no in-cluster config: {error}") from error
    return client.ApiClient(), namespace or DEFAULT_NAMESPACE
