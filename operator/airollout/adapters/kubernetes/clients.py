"""The Kubernetes API clients the controller uses, built once from kubeconfig or in-cluster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes import config as _config

config: Any = _config  # untyped package: one Any here instead of ignores at each call


@dataclass(frozen=True)
class KubeClients:
    api: client.ApiClient
    core: client.CoreV1Api
    apps: client.AppsV1Api
    custom: client.CustomObjectsApi

    @classmethod
    def of(cls, api: client.ApiClient) -> KubeClients:
        return cls(api, client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api))


def connect(
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
