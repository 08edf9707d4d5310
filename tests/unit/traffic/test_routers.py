"""The router registry: each spec.traffic.router kind maps to its router, or a clear refusal."""

from __future__ import annotations

import pytest
from kubernetes import client

from airollout.api.spec import Router
from airollout.traffic.replicas import ReplicaRatioRouter
from airollout.traffic.router import RouterError
from airollout.traffic.routers import router_for

pytestmark = pytest.mark.unit


def test_replicas_kind_gives_the_replica_ratio_router() -> None:
    assert isinstance(router_for(Router.REPLICAS, client.ApiClient()), ReplicaRatioRouter)


def test_gateway_api_kind_is_refused_as_not_built_yet_naming_the_built_ones() -> None:
    with pytest.raises(RouterError, match=r"gatewayAPI router is not built yet.*replicas"):
        router_for(Router.GATEWAY_API, client.ApiClient())
