"""The kopf side: an index of rollouts by target, a reconcile tick, and clean-up on delete.

Every AIRollout that is not at rest gets a timer; each tick runs one reconcile in the
operator's thread pool. kopf never runs two handlers of one object at once, so a rollout's
reconciles never overlap. A finished rollout has no timer (the timer's `when` filter) and
costs nothing until its spec or annotations change, which kopf sees on its watch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf

from airollout.controller import telemetry
from airollout.controller.own_writes import OwnWrites
from airollout.controller.reconcile import Reconciler, at_rest
from airollout.controller.sense import OwnerLookup
from airollout.controller.snapshot import load
from airollout.core.resource.names import GROUP, PLURAL, VERSION
from airollout.core.resource.status import TERMINAL_PHASES, Phase
from airollout.core.rollout.timeline import from_rfc3339

Entry = tuple[str, str, str]  # (creationTimestamp, name, phase)
TERMINAL = frozenset(phase.value for phase in TERMINAL_PHASES)


def owner_lookup(index: Mapping[Any, Any]) -> OwnerLookup:
    """The AIRollout that owns a Deployment: the oldest one targeting it that is not over."""

    def owner_of(namespace: str, target: str) -> str | None:
        entries: list[Entry] = list(index.get((namespace, target), ()))
        live = sorted(entry for entry in entries if entry[2] not in TERMINAL)
        return live[0][1] if live else None

    return owner_of


def phase_counts(index: Mapping[Any, Any]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for entries in index.values():
        counts.update(entry[2] for entry in entries)
    return dict(counts)


def wants_ticks(default_prometheus: str | None) -> Callable[..., bool]:
    """The timer's filter: whether a rollout has anything left to do or answer."""

    def check(**kwargs: Any) -> bool:
        return not at_rest(load(kwargs["body"], default_prometheus))

    return check


def seconds_to_window_end(body: Mapping[str, Any], now: float, tick_seconds: float) -> float:
    """How long to wait so a window ending before the next tick is judged as it ends.

    Waiting here (asleep, holding no thread) rather than until the next tick takes up to a
    tick off every decision's delay. `body` is kopf's live view of the object.
    """
    window = (body.get("status") or {}).get("window") or {}
    if not window.get("end") or window.get("judging"):
        return 0.0
    remaining = from_rfc3339(window["end"]).timestamp() - now
    return remaining + WINDOW_END_MARGIN_S if 0.0 < remaining < tick_seconds else 0.0


# Past the window's end by this much, so the machine's clock check sees the window as over.
WINDOW_END_MARGIN_S = 0.02


def build_registry(
    reconciler: Reconciler, tick_seconds: float, workers: int = 64
) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    resource = (GROUP, VERSION, PLURAL)
    latest: dict[str, Mapping[Any, Any]] = {}
    telemetry.count_rollouts(lambda: phase_counts(latest.get("index", {})))

    @kopf.index(*resource, id="rollouts_by_target", registry=registry)
    def rollouts_by_target(**kwargs: Any) -> dict[tuple[str, str], Entry] | None:
        spec, status, meta = kwargs["spec"], kwargs["status"], kwargs["meta"]
        target = (spec.get("targetRef") or {}).get("name")
        if not target:
            return None
        phase = status.get("phase") or Phase.PENDING.value
        created = meta.get("creationTimestamp") or ""
        return {(kwargs["namespace"], target): (created, kwargs["name"], phase)}

    # Reconciles mostly wait on the API server, not the CPU: a rollout is reconciled once a
    # second only if this many can wait at once (200 rollouts, up to a second each).
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reconcile")
    own_writes = OwnWrites()
    wants = wants_ticks(reconciler.default_prometheus)

    @kopf.timer(
        *resource,
        id="reconcile",
        interval=tick_seconds,
        sharp=True,  # a slow reconcile does not push every later tick back
        backoff=tick_seconds,
        when=wants,
        registry=registry,
    )
    async def tick(**kwargs: Any) -> None:
        index = kwargs["rollouts_by_target"]
        latest["index"] = index  # kopf's live index: the phase counts stay current
        telemetry.TICKS.inc()
        body = own_writes.freshest(kwargs["body"])
        await asyncio.sleep(seconds_to_window_end(body, time.time(), tick_seconds))
        body = own_writes.freshest(kwargs["body"])  # the watch may have caught up meanwhile
        loop = asyncio.get_running_loop()
        wrote = await loop.run_in_executor(pool, reconciler.reconcile, body, owner_lookup(index))
        if wrote is not None:
            own_writes.wrote(wrote.over, wrote.object)
            if not wants(body=wrote.object):
                own_writes.forget(kwargs["body"]["metadata"]["uid"])  # at rest: no more ticks

    @kopf.on.delete(*resource, backoff=tick_seconds, registry=registry)
    def deleted(**kwargs: Any) -> None:
        if not reconciler.release(kwargs["body"]):
            raise kopf.TemporaryError("traffic is going back to stable", delay=tick_seconds)
        reconciler.judge.forget(kwargs["namespace"], kwargs["name"])
        own_writes.forget(kwargs["body"]["metadata"]["uid"])

    @kopf.on.cleanup(registry=registry)
    def close_clients(**_: Any) -> None:
        reconciler.judge.close()  # the LLM clients' HTTP pools

    @kopf.on.startup(registry=registry)
    def configure(**kwargs: Any) -> None:
        settings: kopf.OperatorSettings = kwargs["settings"]
        settings.posting.level = logging.WARNING  # Events are ours; kopf posts only trouble
        # Reconciles run in `pool`; kopf's own workers run the index and the delete handler.
        settings.execution.max_workers = 8
        settings.watching.server_timeout = 300
        settings.networking.request_timeout = 30

    return registry
