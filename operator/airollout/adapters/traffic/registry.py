"""Which router moves traffic for `spec.traffic.router`: one line per router kind.

A new router is one module implementing `TrafficRouter` and one entry in ROUTERS; the
controller only ever calls `router_for`.
"""

from __future__ import annotations

from collections.abc import Callable

from kubernetes import client

from airollout.adapters.kubernetes.deployment_cache import DeploymentCache
from airollout.adapters.traffic.replica_ratio import ReplicaRatioRouter
from airollout.adapters.traffic.router import RouterError, TrafficRouter
from airollout.core.resource.spec import Router

ROUTERS: dict[Router, Callable[[client.ApiClient, DeploymentCache | None], TrafficRouter]] = {
    Router.REPLICAS: ReplicaRatioRouter,
}


def router_for(
    kind: Router, api_client: client.ApiClient, deployments: DeploymentCache | None = None
) -> TrafficRouter:
    """The router for `kind`, reading Deployments from `deployments` when given; RouterError
    when that kind is not built yet."""
    make = ROUTERS.get(kind)
    if make is None:
        built = ", ".join(sorted(ROUTERS))
        raise RouterError(
            f"the {kind} router is not built yet: set spec.traffic.router to one of {built}"
        )
    return make(api_client, deployments)
