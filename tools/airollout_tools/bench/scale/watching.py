"""A watch on the rollouts that records each window's end and each decision as it lands."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from airollout.core.resource.crd import GROUP, PLURAL, VERSION
from airollout.core.rollout.keys import is_weight_key
from airollout.core.rollout.timeline import from_rfc3339
from airollout_tools.bench.scale.settings import FINISHED_PHASES


@dataclass
class DecisionWatch:
    """Window ends as windows open, and decisions as they land, from AIRollout statuses."""

    window_ends: dict[tuple[str, str], datetime] = field(default_factory=dict)
    decided: dict[tuple[str, str], tuple[datetime, datetime]] = field(default_factory=dict)
    phases: dict[str, str] = field(default_factory=dict)
    # (name, weight) -> first seen at that weight with no weight change awaited: applied.
    settled: dict[tuple[str, int], datetime] = field(default_factory=dict)
    # (name, decision key) -> the weight it was made at, for its next weight's sighting.
    decided_at_weight: dict[tuple[str, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, rollout: Mapping[str, Any], seen: datetime) -> None:
        name = rollout["metadata"]["name"]
        status = rollout.get("status") or {}
        with self.lock:
            if status.get("phase"):
                self.phases[name] = status["phase"]
            window = status.get("window") or {}
            if window.get("key") and window.get("end"):
                self.window_ends.setdefault((name, window["key"]), from_rfc3339(window["end"]))
            for decision in status.get("decisions") or []:
                if decision.get("key") and decision.get("time"):
                    record_time = from_rfc3339(decision["time"])
                    self.decided.setdefault((name, decision["key"]), (record_time, seen))
                    if decision.get("action") == "proceed":
                        at_weight = decision.get("weight", 0)
                        self.decided_at_weight.setdefault((name, decision["key"]), at_weight)
            awaiting = status.get("awaiting")
            if not awaiting or not is_weight_key(awaiting):
                # Awaiting the promotion means the last weight is applied: the status then
                # asks for the promote at once, so waiting for no awaiting at all measured
                # the whole promotion. Promoted is the last weight applied, whatever follows.
                weight = 100 if status.get("phase") == "Succeeded" else status.get("weight", 0)
                self.settled.setdefault((name, weight), seen)

    def delays(self) -> tuple[list[float], list[float], int]:
        """(window end -> record time, window end -> seen) per decision, and how many
        decisions had no window end to measure from."""
        recorded, seen, unmatched = [], [], 0
        with self.lock:
            for key, (record_time, seen_at) in self.decided.items():
                end = self.window_ends.get(key)
                if end is None:
                    unmatched += 1
                    continue
                recorded.append((record_time - end).total_seconds())
                seen.append((seen_at - end).total_seconds())
        return recorded, seen, unmatched

    def applied_delays(self, slices: Sequence[int]) -> list[float]:
        """Window end -> the next slice's weight seen applied, per proceed decision made
        at a slice that has a next one (and whose window was seen open)."""
        delays = []
        with self.lock:
            for key, weight in self.decided_at_weight.items():
                end = self.window_ends.get(key)
                later = [w for w in slices if w > weight]
                applied = self.settled.get((key[0], later[0])) if later else None
                if end is not None and applied is not None:
                    delays.append((applied - end).total_seconds())
        return delays

    def finished(self, names: Iterable[str]) -> bool:
        with self.lock:
            return all(self.phases.get(name) in FINISHED_PHASES for name in names)

    def phase_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.lock:
            for phase in self.phases.values():
                counts[phase] = counts.get(phase, 0) + 1
        return counts


def watch_rollouts(custom: Any, namespace: str, into: DecisionWatch, stop: threading.Event) -> None:
    """Every AIRollout of `namespace` into `into`, until `stop` is set."""
    watch_objects(custom, (GROUP, VERSION, PLURAL), namespace, into.observe, stop)


def watch_objects(
    custom: Any,
    kind: tuple[str, str, str],
    namespace: str,
    observe: Callable[[Mapping[str, Any], datetime], None],
    stop: threading.Event,
) -> None:
    """List, then watch from that resourceVersion; list again when the watch ends or
    expires (410), so nothing is missed for long. Each object goes to `observe` with the
    moment it was seen. Runs until `stop` is set, noticed at the next event (the objects'
    deletion brings plenty) or the watch's end. `kind` is (group, version, plural)."""
    while not stop.is_set():
        try:
            listing = custom.list_namespaced_custom_object(*kind[:2], namespace, kind[2])
            now = datetime.now(UTC)
            for item in listing.get("items", []):
                observe(item, now)
            stream = watch.Watch().stream(  # type: ignore[no-untyped-call]
                custom.list_namespaced_custom_object,
                *kind[:2],
                namespace,
                kind[2],
                resource_version=listing["metadata"]["resourceVersion"],
                timeout_seconds=60,
            )
            for event in stream:
                if event["type"] in ("ADDED", "MODIFIED"):
                    observe(event["object"], datetime.now(UTC))
                if stop.is_set():
                    break
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            print(f"  (watch restarted: {error})", file=sys.stderr)
            stop.wait(0.5)
