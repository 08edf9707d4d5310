"""Leader election's I/O: read and write one coordination.k8s.io/v1 Lease.

What to write is decided in `controller.lease` (pure); this module only carries it out, on a
thread so the event loop keeps beating, and keeps time with injected clocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from airollout.controller.health import HealthState
from airollout.core.lease import Action, LeaseRecord, decide, lost, released

log = logging.getLogger("airollout.controller.leader")
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
# What a Lease request can fail with, short of a bug: the API's answer or the network.
LEASE_ERRORS = (ApiException, HTTPError, OSError)


@dataclass(frozen=True)
class Timings:
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0


def default_namespace(service_account_file: Path = SERVICE_ACCOUNT_NAMESPACE) -> str:
    """The operator's own namespace in a pod, else `default`."""
    try:
        return service_account_file.read_text().strip() or "default"
    except OSError:
        return "default"


def new_identity() -> str:
    """hostname plus a random suffix: a restarted pod (same hostname) is a new candidate."""
    return f"{socket.gethostname()}_{secrets.token_hex(4)}"


def _micro_time(moment: datetime | None) -> str | None:
    """A Lease's MicroTime: RFC 3339 with exactly six fractional digits."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(
        self,
        coordination: client.CoordinationV1Api,
        namespace: str,
        name: str,
        identity: str,
        timings: Timings,
        health: HealthState,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.api, self.namespace, self.name, self.identity = coordination, namespace, name, identity
        self.timings, self.health, self.clock, self.wall_clock = timings, health, clock, wall_clock
        self.last_renewed = -math.inf

    def try_acquire_or_renew(self) -> bool:
        """One attempt (blocking): True when I hold the lease afterwards."""
        current, version = self._read()
        # The renewTime about to be written is now: the renew deadline counts from here, not
        # from the write's answer, so a slow write cannot stretch the leader past its lease.
        self.health.lease_seen = attempted = self.clock()
        duration = math.ceil(self.timings.lease_duration)
        decision = decide(current, self.identity, self.wall_clock(), duration)
        if decision.record is None:
            return False
        try:
            self._write(decision.action, decision.record, version)
        except ApiException as error:
            if error.status in (404, 409):  # someone else wrote first: read again next time
                return False
            raise
        if decision.action is not Action.RENEW:
            log.info("%s now holds lease %s/%s", self.identity, self.namespace, self.name)
        self.last_renewed = attempted
        return True

    async def acquire(self, stopping: asyncio.Event) -> bool:
        """Stand by until I hold the lease (True) or `stopping` is set (False)."""
        log.info("standing by for lease %s/%s as %s", self.namespace, self.name, self.identity)
        while not stopping.is_set():
            if await self._attempt():
                self.health.leading = True
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.timings.retry_period)
        return False

    async def hold(self) -> None:
        """Renew every retry period; return once the renew deadline has passed without a
        renewal, or at once when the Lease names someone else."""
        while not lost(self.last_renewed, self.clock(), self.timings.renew_deadline):
            await asyncio.sleep(self.timings.retry_period)
            if await self._attempt() is False:
                break
        self.health.leading = False
        log.error(
            "lost lease %s/%s: held by another or not renewed within %g s",
            self.namespace,
            self.name,
            self.timings.renew_deadline,
        )

    def release(self) -> None:
        """Give the lease up (clean shutdown) so a standby takes over at its next retry."""
        try:
            current, version = self._read()
            record = current and released(current, self.identity, self.wall_clock())
            if record is not None:
                self._write(Action.RENEW, record, version)
                log.info("released lease %s/%s", self.namespace, self.name)
        except LEASE_ERRORS as error:
            log.warning("could not release lease %s/%s: %s", self.namespace, self.name, error)
        self.health.leading = False

    async def _attempt(self) -> bool | None:
        """Whether I hold the lease after one attempt; None when the attempt failed."""
        try:
            return await asyncio.to_thread(self.try_acquire_or_renew)
        except LEASE_ERRORS as error:
            log.warning("lease %s/%s: %s", self.namespace, self.name, error)
            return None

    def _timeout(self) -> float:
        return max(self.timings.retry_period, self.timings.renew_deadline / 2)

    def _read(self) -> tuple[LeaseRecord | None, str | None]:
        try:
            lease = self.api.read_namespaced_lease(
                self.name, self.namespace, _request_timeout=self._timeout()
            )
        except ApiException as error:
            if error.status == 404:
                return None, None
            raise
        spec = lease.spec or client.V1LeaseSpec()
        record = LeaseRecord(
            holder=spec.holder_identity or "",
            duration_seconds=spec.lease_duration_seconds or 0,
            acquired=spec.acquire_time,
            renewed=spec.renew_time,
            transitions=spec.lease_transitions or 0,
        )
        return record, (lease.metadata or client.V1ObjectMeta()).resource_version

    def _write(self, action: Action, record: LeaseRecord, version: str | None) -> None:
        metadata: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        body: Any = {  # a dict, so the MicroTimes go out exactly as formatted
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": {
                "holderIdentity": record.holder,
                "leaseDurationSeconds": record.duration_seconds,
                "acquireTime": _micro_time(record.acquired),
                "renewTime": _micro_time(record.renewed),
                "leaseTransitions": record.transitions,
            },
        }
        timeout = self._timeout()
        if action is Action.CREATE:
            self.api.create_namespaced_lease(self.namespace, body, _request_timeout=timeout)
            return
        metadata["resourceVersion"] = version  # lose with 409 to any write since the read
        self.api.replace_namespaced_lease(self.name, self.namespace, body, _request_timeout=timeout)
