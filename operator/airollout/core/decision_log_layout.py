"""How the decision log is laid out in ConfigMaps, and how its records read back (no I/O).

One AIRollout (one UID) writes numbered parts, `<name>-<uid8>-decisions-0001`, `-0002`, …;
each part holds one JSON entry per judged window (`g1-s0-w1.json`) and stays under a byte
budget, so a rollout that holds for days never meets the apiserver's 1 MiB object limit.
Labels find every part of a rollout name or of one UID; the newest record's time, kept in an
annotation, lets retention decide without reading the records. See docs/decision-log.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airollout.core.resource.names import DECISION_LOG_LABEL, GROUP, ROLLOUT_LABEL
from airollout.core.rollout.timeline import from_rfc3339

UID_LABEL = f"{GROUP}/rollout-uid"
PART_LABEL = f"{GROUP}/decision-log-part"
NAME_ANNOTATION = f"{GROUP}/rollout-name"  # the full name, which a label may have to shorten
NEWEST_ANNOTATION = f"{GROUP}/newest-record"  # RFC 3339 time of the part's newest record

PART_BUDGET_BYTES = 512 * 1024  # half the apiserver's limit: room for one more large record
ENTRY_SUFFIX = ".json"
LABEL_VALUE_LIMIT = 63
NAME_LIMIT = 253
UID_PREFIX = 8


def part_name(rollout: str, uid: str, part: int) -> str:
    suffix = f"-{uid[:UID_PREFIX]}-decisions-{part:04d}"
    return f"{rollout[: NAME_LIMIT - len(suffix)]}{suffix}"


def entry_name(key: str) -> str:
    return f"{key}{ENTRY_SUFFIX}"


def rollout_label_value(rollout: str) -> str:
    """A label value (63 characters at most) that names the rollout; longer names are cut
    and suffixed with a digest, and the full name goes in NAME_ANNOTATION."""
    if len(rollout) <= LABEL_VALUE_LIMIT:
        return rollout
    digest = hashlib.sha256(rollout.encode()).hexdigest()[:8]
    return f"{rollout[: LABEL_VALUE_LIMIT - len(digest) - 1]}-{digest}"


def name_selector(rollout: str) -> str:
    return f"{DECISION_LOG_LABEL}=true,{ROLLOUT_LABEL}={rollout_label_value(rollout)}"


def uid_selector(uid: str) -> str:
    return f"{DECISION_LOG_LABEL}=true,{UID_LABEL}={uid}"


def part_labels(rollout: str, uid: str, part: int) -> dict[str, str]:
    return {
        DECISION_LOG_LABEL: "true",
        ROLLOUT_LABEL: rollout_label_value(rollout),
        UID_LABEL: uid,
        PART_LABEL: str(part),
    }


def entry_text(record: Mapping[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def data_bytes(data: Mapping[str, str]) -> int:
    """What the apiserver counts against a ConfigMap's size limit."""
    return sum(len(key.encode()) + len(value.encode()) for key, value in data.items())


def newer(first: str | None, second: str | None) -> str | None:
    """The later of two RFC 3339 times (either may be missing)."""
    if first is None or second is None:
        return first or second
    return first if from_rfc3339(first) >= from_rfc3339(second) else second


@dataclass(frozen=True)
class LoggedRecord:
    """One record as the log holds it: which rollout (UID) and window it belongs to."""

    namespace: str
    rollout: str
    uid: str
    key: str
    part: int
    record: Mapping[str, Any]

    @property
    def time(self) -> datetime | None:
        stamp = self.record.get("time")
        return from_rfc3339(stamp) if isinstance(stamp, str) else None

    @property
    def action(self) -> str:
        return str(self.record.get("action", ""))

    def to_json(self) -> dict[str, Any]:
        return {
            **self.record,
            "namespace": self.namespace,
            "rollout": self.rollout,
            "uid": self.uid,
            "key": self.key,
        }


@dataclass(frozen=True)
class LogPart:
    """One ConfigMap of the log, as read: enough to list its records."""

    namespace: str
    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    data: Mapping[str, str]

    @property
    def uid(self) -> str:
        return self.labels.get(UID_LABEL, "")  # "" for a log written before UIDs were kept

    @property
    def part(self) -> int:
        text = self.labels.get(PART_LABEL, "")
        return int(text) if text.isdigit() else 0

    @property
    def rollout(self) -> str:
        return self.annotations.get(NAME_ANNOTATION) or self.labels.get(ROLLOUT_LABEL, "")

    def records(self) -> list[LoggedRecord]:
        return [
            LoggedRecord(
                self.namespace,
                self.rollout,
                self.uid,
                name.removesuffix(ENTRY_SUFFIX),
                self.part,
                json.loads(text),
            )
            for name, text in self.data.items()
            if name.endswith(ENTRY_SUFFIX)
        ]


def history(parts: Iterable[LogPart], rollout: str | None = None) -> list[LoggedRecord]:
    """Every record of these parts, oldest first, one per (UID, window key).

    A window's record is written once per UID, but a write whose answer was lost (a timeout
    after the apiserver applied it) may be repeated after a rotation; the copy in the later
    part is the one the writer last meant, so it wins.
    """
    latest: dict[tuple[str, str], LoggedRecord] = {}
    for part in parts:
        if rollout is not None and part.rollout != rollout:
            continue  # a shortened label shared by another, longer name
        for entry in part.records():
            seen = latest.get((entry.uid, entry.key))
            if seen is None or entry.part >= seen.part:
                latest[(entry.uid, entry.key)] = entry
    return sorted(latest.values(), key=_chronological)


def _chronological(entry: LoggedRecord) -> tuple[float, str, int, str]:
    moment = entry.time
    return (moment.timestamp() if moment else 0.0, entry.uid, entry.part, entry.key)


def expired_uids(parts: Iterable[LogPart], cutoff: datetime) -> dict[tuple[str, str], list[str]]:
    """(namespace, uid) → part names, for each rollout whose newest record is before `cutoff`.

    A rollout's parts go together: deleting only its old parts would leave a log with a hole.
    A part without the annotation (an older layout) counts by itself, by the name it has.
    """
    newest: dict[tuple[str, str], str | None] = {}
    names: dict[tuple[str, str], list[str]] = {}
    for part in parts:
        owner = (part.namespace, part.uid or f"name:{part.name}")
        newest[owner] = newer(newest.get(owner), _newest_of(part))
        names.setdefault(owner, []).append(part.name)
    return {
        owner: sorted(names[owner])
        for owner, stamp in newest.items()
        if stamp is not None and from_rfc3339(stamp) < cutoff
    }


def _newest_of(part: LogPart) -> str | None:
    stamp = part.annotations.get(NEWEST_ANNOTATION)
    if stamp:
        return stamp
    times = [str(r.record["time"]) for r in part.records() if isinstance(r.record.get("time"), str)]
    newest: str | None = None
    for moment in times:
        newest = newer(newest, moment)
    return newest
