"""The router registry: each spec.traffic.router kind maps to its router, or a clear refusal."""

from __future__ import annotations

import pytest
from kubernetes import client

from airollout.adapters.traffic.registry import router_for
from airollout.adapters.traffic.replica_ratio import ReplicaRatioRouter
from airollout.adapters.traffic.router import RouterError
from airollout.core.resource.spec import Router

pytestmark = pytest.mark.unit


def test_replicas_kind_gives_the_replica_ratio_router() -> None:
    assert isinstance(router_for(Router.REPLICAS, client.ApiClient()), ReplicaRatioRouter)


def test_gateway_api_kind_is_refused_as_not_built_yet_naming_the_built_ones() -> None:
    with pytest.raises(RouterError, match=r"gatewayAPI router is not built yet.*replicas"):
        router_for(Router.GATEWAY_API, client.ApiClient())
