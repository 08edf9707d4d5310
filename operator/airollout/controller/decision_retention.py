"""Retention of the decision log: `--decision-log-retention` on `airollout operator`.

A rollout's log (all its parts) is deleted once its newest record is older than the
retention. The sweep lists only the parts' metadata, so it runs at startup and then hourly
at little cost; a failed sweep is logged and tried again at the next hour.
"""

from __future__ import annotations

import argparse
import logging
import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

import urllib3
from kubernetes import client

from airollout.core.resource.durations import DurationError, parse_duration

log = logging.getLogger("airollout.decisions")

DEFAULT_RETENTION = "30d"
SWEEP_INTERVAL_S = 3600.0
_DAYS = re.compile(r"^([0-9]+)d(.*)$")


def parse_retention(text: str) -> float:
    """Seconds in a retention such as `30d`, `720h` or `7d12h`; for argparse."""
    days = _DAYS.fullmatch(text)
    try:
        if days is None:
            seconds = parse_duration(text)
        else:
            rest = days.group(2)
            seconds = int(days.group(1)) * 86400.0 + (parse_duration(rest) if rest else 0.0)
    except DurationError as error:
        raise argparse.ArgumentTypeError(
            f"must be a duration such as 30d, 720h or 7d12h, got {text!r}"
        ) from error
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be longer than 0, got {text!r}")
    return seconds


class Pruner(Protocol):
    def prune(self, namespaces: Sequence[str], cutoff: datetime) -> list[str]: ...


class RetentionSweep:
    def __init__(
        self,
        log_store: Pruner,
        retention_s: float,
        namespaces: Sequence[str] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.log_store, self.retention = log_store, timedelta(seconds=retention_s)
        self.namespaces, self.clock = tuple(namespaces), clock

    def sweep(self) -> list[str]:
        """Delete what is past retention now; a failure is logged, never raised."""
        try:
            deleted = self.log_store.prune(self.namespaces, self.clock() - self.retention)
        except (client.ApiException, urllib3.exceptions.HTTPError) as error:
            log.warning("decision log retention: sweep failed (%s); next in an hour", error)
            return []
        if deleted:
            log.info("decision log retention: deleted %s", ", ".join(deleted))
        return deleted

    def run(self, stop: threading.Event, interval_s: float = SWEEP_INTERVAL_S) -> None:
        """Sweep now, then every `interval_s`, until `stop` is set."""
        while True:
            self.sweep()
            if stop.wait(interval_s):
                return

    def start(self) -> threading.Event:
        """Sweep in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        threading.Thread(
            target=self.run, args=(stop,), name="decision-log-retention", daemon=True
        ).start()
        return stop
