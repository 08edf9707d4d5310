"""The router registry: each spec.traffic.router kind maps to its router."""

from __future__ import annotations

import pytest
from kubernetes import client

from airollout.adapters.traffic.registry import router_for
from airollout.adapters.traffic.replica_ratio import ReplicaRatioRouter
from airollout.core.resource.spec import Router

pytestmark = pytest.mark.unit


def test_replicas_kind_gives_the_replica_ratio_router() -> None:
    assert isinstance(router_for(Router.REPLICAS, client.ApiClient()), ReplicaRatioRouter)
