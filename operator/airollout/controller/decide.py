"""Deciding: one window's verdict. Read both versions from the metric source, ask the judge.

The judge's input comes assembled (`core/rollout/judge_input.py`). Its evidence between
windows lives in `status.evidence` (invariant 5, docs/architecture.md#safety-invariants), so
this module keeps no evidence between calls. The LLM's API key is read from its Secret for
each window and handed only to the LLM client (invariant 6). What it does keep is the LLM
clients: one per endpoint and key, shared by the windows of every rollout that names them,
so a rollout does not open a new HTTP pool each window; a client is closed once no rollout
uses it (deleted, moved to another endpoint, or idle) and at operator shutdown.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from kubernetes import client

from airollout.adapters.kubernetes.deployment_cache import DeploymentCache
from airollout.adapters.kubernetes.pod_cache import PodCache
from airollout.adapters.kubernetes.pods import PodReader
from airollout.adapters.kubernetes.secrets import secret_value
from airollout.adapters.llm.openai_judge import LLMJudge, LLMSettings
from airollout.adapters.metrics.source import MetricsProvider, WindowData, WindowQuery
from airollout.core.analysis.pods import PodHealth
from airollout.core.analysis.types import Observation, Version
from airollout.core.judge.combined import CombinedJudge
from airollout.core.judge.prompt import PastDecision
from airollout.core.judge.rules import RulesJudge
from airollout.core.judge.types import Action, DecisionContext, Judge, Opinion, Verdict
from airollout.core.resource.spec import AnalysisSpec, JudgeMode, JudgeSpec
from airollout.core.rollout.judge_input import JudgeInput

log = logging.getLogger("airollout.controller")

ProviderFactory = Callable[[AnalysisSpec], MetricsProvider | None]
# A client untouched this long is closed even if a rollout still names it: a finished
# rollout that is never deleted asks nothing more, and its pool should not stay open.
LLM_CLIENT_IDLE_S = 900.0
# Windows whose pods are read at once, beside their metric queries: hundreds of windows end
# in the same second, and eight at once queued their reads for seconds.
POD_READS = 32
PodReadings = tuple[PodHealth | None, PodHealth | None]


class LLMClient(Protocol):
    def opinion(
        self, context: DecisionContext, rules: Verdict, history: Sequence[PastDecision] = ()
    ) -> Opinion: ...

    def close(self) -> None: ...


# Everything the client was built with, the key replaced by its hash so none is kept twice.
ClientKey = tuple[LLMSettings, str]


def client_key(settings: LLMSettings) -> ClientKey:
    digest = hashlib.sha256(settings.api_key.encode()).hexdigest()
    return dataclasses.replace(settings, api_key=""), digest


class LLMClients:
    """The LLM clients in use, one per endpoint, model and API key (and their settings).

    Reconciles run in a thread pool, so every change happens under one lock.
    """

    def __init__(
        self,
        make: Callable[[LLMSettings], LLMClient] = LLMJudge,
        clock: Callable[[], float] = time.monotonic,
        idle_s: float = LLM_CLIENT_IDLE_S,
    ) -> None:
        self._make, self._clock, self._idle_s = make, clock, idle_s
        self._clients: dict[ClientKey, LLMClient] = {}
        self._last_used: dict[ClientKey, float] = {}
        self._users: dict[str, ClientKey] = {}  # "namespace/name" -> the client it uses
        self._lock = threading.Lock()

    def client_for(self, user: str, settings: LLMSettings) -> LLMClient:
        """The shared client for these settings, made on first use; `user` now uses it."""
        key = client_key(settings)
        with self._lock:
            self._users[user] = key
            self._last_used[key] = self._clock()
            self._close_unused()
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._make(settings)
            return client

    def forget(self, user: str) -> None:
        """`user` is gone: close its client if no other rollout uses it."""
        with self._lock:
            self._users.pop(user, None)
            self._close_unused()

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
            self._last_used.clear()
            self._users.clear()

    def __len__(self) -> int:
        return len(self._clients)

    def _close_unused(self) -> None:
        now = self._clock()
        idle = {key for key, used in self._last_used.items() if now - used > self._idle_s}
        self._users = {user: key for user, key in self._users.items() if key not in idle}
        in_use = set(self._users.values())
        for key in [key for key in self._clients if key not in in_use]:
            self._clients.pop(key).close()
        self._last_used = {key: used for key, used in self._last_used.items() if key in in_use}


class UnusableLLM:
    """Stands in for the LLM when it cannot even be asked (its Secret is missing)."""

    def __init__(self, error: str) -> None:
        self.error = error

    def opinion(
        self, context: DecisionContext, rules: Verdict, history: Sequence[PastDecision] = ()
    ) -> Opinion:
        return Opinion(judge="llm", action=None, reasoning="", error=self.error)


def judge_failed(error: Exception) -> Verdict:
    """A hold that says the judge failed: never a proceed, and `onHold` still applies, so a
    rollout whose judge keeps failing ends as its spec says instead of retrying for ever."""
    what = f"{type(error).__name__}: {error}"
    summary = f"Hold: the judge failed on this window ({what})"
    reasoning = (
        f"{summary}. The evidence is kept as it was before this window; the rollout holds "
        "until the judge decides again or spec.onHold.timeout passes."
    )
    return Verdict(Action.HOLD, reasoning, (), (), summary=summary)


class WindowJudge:
    def __init__(
        self,
        core: client.CoreV1Api,
        providers: ProviderFactory,
        llm_clients: LLMClients | None = None,
        deployments: DeploymentCache | None = None,
        pods: PodCache | None = None,
    ) -> None:
        self.core, self.providers = core, providers
        # Without a cluster (the unit tests' fakes) the pods are not read.
        self.pods = PodReader(core.api_client, deployments, pods) if core is not None else None
        self._pod_reads = ThreadPoolExecutor(max_workers=POD_READS, thread_name_prefix="pods")
        self.llm_clients = llm_clients if llm_clients is not None else LLMClients()

    def forget(self, namespace: str, rollout: str) -> None:
        """The rollout is gone: its LLM client closes unless another rollout shares it."""
        self.llm_clients.forget(f"{namespace}/{rollout}")

    def close(self) -> None:
        """Operator shutdown: every LLM client's HTTP pool is closed."""
        self.llm_clients.close()

    def judge(self, window: JudgeInput) -> tuple[Verdict, dict[str, Any]]:
        settings = window.settings
        judge = self._judge_for(window.namespace, window.rollout, window.judge)
        state = dict(window.evidence) or judge.initial_state(settings)
        pods = self._read_pods(window)  # read while the metrics are
        data = self._read(window)
        context = window.context
        if pods is not None:
            context = dataclasses.replace(context, pods=pods.result())
        if data.problems:
            notes = {f"metrics.problem.{i + 1}": text for i, text in enumerate(data.problems)}
            context = dataclasses.replace(context, labels={**context.labels, **notes})
        try:
            verdict, new_state = judge.decide(settings, state, context, [data.observation])
        except Exception as error:  # a bug in a judge must not wedge the rollout
            log.exception("%s/%s: the judge failed", window.namespace, window.rollout)
            return judge_failed(error), state
        if data.problems:
            reasoning = f"{verdict.reasoning} Metric source: {' '.join(data.problems)}"
            verdict = dataclasses.replace(verdict, reasoning=reasoning)
        return verdict, new_state

    def _read_pods(self, window: JudgeInput) -> Future[PodReadings] | None:
        if self.pods is None or len(window.workloads) != 2:
            return None
        canary, stable = window.workloads[Version.CANARY], window.workloads[Version.STABLE]
        return self._pod_reads.submit(self.pods.health, window.namespace, canary, stable)

    def _read(self, window: JudgeInput) -> WindowData:
        metrics = window.analysis.metrics
        empty = Observation(
            start_s=window.start_s, duration_s=window.duration_s, canary={}, stable={}
        )
        if not metrics:
            return WindowData(empty)
        provider = self.providers(window.analysis)
        if provider is None:  # validation refuses this; kept safe if it slips through
            return WindowData(empty, ("no Prometheus address is configured",))
        query = WindowQuery(
            namespace=window.namespace,
            workloads=window.workloads,
            metrics=metrics,
            start=window.start,
            end=window.end,
            slice_started_at=window.slice_started_at,
            rollout=window.rollout,
        )
        return provider.read_window(query)

    def _judge_for(self, namespace: str, rollout: str, spec: JudgeSpec) -> Judge:
        rules = RulesJudge()
        if spec.mode is JudgeMode.RULES or spec.llm is None:
            return rules
        llm_spec = spec.llm
        api_key, error = "", None
        if llm_spec.api_key_secret_ref is not None:
            api_key, error = secret_value(
                self.core,
                namespace,
                llm_spec.api_key_secret_ref.name,
                llm_spec.api_key_secret_ref.key,
            )
        if error is not None:
            return CombinedJudge(rules, UnusableLLM(error), spec.mode)
        settings = LLMSettings.from_spec(llm_spec, api_key)
        llm = self.llm_clients.client_for(f"{namespace}/{rollout}", settings)
        return CombinedJudge(rules, llm, spec.mode)
