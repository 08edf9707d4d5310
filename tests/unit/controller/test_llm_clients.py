"""One LLM client per endpoint and key, shared across windows and rollouts, closed when unused."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from airollout.adapters.llm.openai_judge import LLMSettings
from airollout.controller.decide import LLMClients, WindowJudge
from airollout.core.judge.prompt import PastDecision
from airollout.core.judge.types import Action, DecisionContext, Opinion, Verdict
from tests.support.controller_fakes import Harness, SteadyMetrics, rollout_body

pytestmark = pytest.mark.unit

ENDPOINT = {"model": "small", "baseURL": "http://127.0.0.1:9/v1"}


class FakeClient:
    """Stands in for LLMJudge: counts what it was asked and whether it was closed."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings, self.asked, self.closed = settings, 0, False

    def opinion(
        self, context: DecisionContext, rules: Verdict, history: Sequence[PastDecision] = ()
    ) -> Opinion:
        assert not self.closed, "a closed client was asked"
        self.asked += 1
        return Opinion("llm", Action.PROCEED, "fine", model=self.settings.model)

    def close(self) -> None:
        self.closed = True


def fake(client: object) -> FakeClient:
    assert isinstance(client, FakeClient)
    return client


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def harness_with(clients: LLMClients) -> Harness:
    harness = Harness()
    harness.reconciler.judge = WindowJudge(None, lambda spec: SteadyMetrics(), clients)  # type: ignore[arg-type]
    harness.body = rollout_body(judge={"mode": "hybrid", "llm": ENDPOINT})
    return harness


def test_consecutive_windows_share_one_client_which_shutdown_closes() -> None:
    made: list[FakeClient] = []

    def make(settings: LLMSettings) -> FakeClient:
        made.append(FakeClient(settings))
        return made[-1]

    clients = LLMClients(make=make)
    harness = harness_with(clients)
    harness.reconcile()  # 10 % asked for
    harness.reconcile()  # in effect: the first window opens
    for _ in range(3):  # three windows judged; each proceed or hold opens the next
        harness.advance(11)
        harness.reconcile()
        harness.reconcile()
    assert len(made) == 1
    assert made[0].asked >= 2
    assert len(harness.log.entries) == made[0].asked
    harness.reconciler.judge.close()
    assert made[0].closed
    assert len(clients) == 0


def settings(**changes: object) -> LLMSettings:
    base: dict[str, object] = {"model": "small", "base_url": "http://llm/v1", "api_key": "k1"}
    return LLMSettings(**{**base, **changes})  # type: ignore[arg-type]


def test_rollouts_with_the_same_endpoint_and_key_share_a_client_other_keys_do_not() -> None:
    clients = LLMClients(make=FakeClient)
    first = clients.client_for("shop/a", settings())
    assert clients.client_for("shop/b", settings()) is first
    assert clients.client_for("shop/c", settings(api_key="k2")) is not first
    assert clients.client_for("shop/d", settings(model="large")) is not first
    assert len(clients) == 3


def test_a_client_is_closed_once_no_rollout_uses_it() -> None:
    clients = LLMClients(make=FakeClient)
    shared = fake(clients.client_for("shop/a", settings()))
    clients.client_for("shop/b", settings())
    clients.forget("shop/a")
    assert not shared.closed
    clients.forget("shop/b")
    assert shared.closed
    assert len(clients) == 0


def test_moving_a_rollout_to_another_endpoint_closes_the_old_client() -> None:
    clients = LLMClients(make=FakeClient)
    old = fake(clients.client_for("shop/a", settings()))
    new = fake(clients.client_for("shop/a", settings(base_url="http://other/v1")))
    assert old.closed
    assert not new.closed


def test_a_client_left_idle_is_closed_at_the_next_use_of_any_client() -> None:
    clock = Clock()
    clients = LLMClients(make=FakeClient, clock=clock, idle_s=600)
    finished = fake(clients.client_for("shop/done", settings()))
    clock.now = 599
    clients.client_for("shop/live", settings(model="other"))
    assert not finished.closed
    clock.now = 1200  # "shop/done" asked nothing for 20 minutes: a finished rollout
    live = fake(clients.client_for("shop/live", settings(model="other")))
    assert finished.closed
    assert not live.closed
    # Asked again after all, it gets a fresh client rather than the closed one.
    assert clients.client_for("shop/done", settings()) is not finished
