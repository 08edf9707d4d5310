"""The replica-ratio router's answers to API failures, without a cluster: a fake object API
stands in for the apiserver, answering as it does (Status bodies, 404, 409)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from kubernetes import client

from airollout.adapters.traffic.replica_ratio import ReplicaRatioRouter
from airollout.adapters.traffic.router import RolloutTarget, RouterError, TargetMissingError
from airollout.core.resource.spec import AIRolloutSpec

pytestmark = pytest.mark.unit

ROLLOUT = RolloutTarget(
    "shop",
    "web-2",
    "uid-1",
    AIRolloutSpec.model_validate({"targetRef": {"name": "web"}, "template": {"image": "app:2"}}),
)


def _status_error(code: int, reason: str, message: str) -> client.ApiException:
    body = {"kind": "Status", "status": "Failure", "message": message, "code": code}
    return client.ApiException(status=code, reason=reason, body=json.dumps(body))


class FakeObjects:
    """Deployments by name; `failures` maps a method name to the error it raises."""

    def __init__(self, deployments: dict[str, Any], failures: dict[str, Exception]) -> None:
        self.deployments, self.failures = deployments, failures
        self.writes: list[str] = []

    def _maybe_fail(self, method: str) -> None:
        if method in self.failures:
            raise self.failures[method]

    def get_namespaced_custom_object(self, *args: Any) -> Any:
        self._maybe_fail("get")
        name = args[-1]
        if name not in self.deployments:
            raise _status_error(404, "Not Found", f'deployments.apps "{name}" not found')
        return copy.deepcopy(self.deployments[name])

    def patch_namespaced_custom_object(self, *args: Any, **_: Any) -> Any:
        self._maybe_fail("patch")
        self.writes.append("patch")
        return copy.deepcopy(self.deployments[args[4]])


def _target() -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "m"}]}}
    return {
        "metadata": {"name": "web", "resourceVersion": "7", "generation": 1},
        "spec": {"replicas": 10, "selector": {"matchLabels": {"app": "web"}}, "template": template},
    }


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeObjects:
    objects = FakeObjects({"web": _target()}, {})
    monkeypatch.setattr(client, "CustomObjectsApi", lambda _api: objects)
    return objects


def test_a_forbidden_read_is_a_router_error_in_the_apiservers_words(fake: FakeObjects) -> None:
    message = 'deployments.apps "web" is forbidden: User "op" cannot get resource "deployments"'
    fake.failures["get"] = _status_error(403, "Forbidden", message)

    with pytest.raises(RouterError) as raised:
        ReplicaRatioRouter(client.ApiClient()).set_weight(ROLLOUT, 10)

    assert str(raised.value) == f"could not read Deployment shop/web: 403 Forbidden: {message}"
    assert raised.value.__suppress_context__, "no chained traceback of the client's internals"


def test_a_conflict_while_recording_the_target_means_try_again_later(fake: FakeObjects) -> None:
    fake.failures["patch"] = _status_error(409, "Conflict", "the object has been modified")

    assert ReplicaRatioRouter(client.ApiClient()).set_weight(ROLLOUT, 10) is False


def test_a_missing_target_is_target_missing_and_nothing_is_written(fake: FakeObjects) -> None:
    del fake.deployments["web"]

    with pytest.raises(TargetMissingError, match="shop/web"):
        ReplicaRatioRouter(client.ApiClient()).set_weight(ROLLOUT, 10)
    assert fake.writes == []


def test_an_unreachable_apiserver_is_a_router_error_not_a_traceback() -> None:
    config = client.Configuration(host="http://127.0.0.1:1")
    config.retries = False

    with pytest.raises(RouterError, match="cannot reach the Kubernetes API"):
        ReplicaRatioRouter(client.ApiClient(config)).rollback(ROLLOUT)
