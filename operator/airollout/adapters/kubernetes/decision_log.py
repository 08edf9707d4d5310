"""The decision log: every record, kept in the cluster so a crash loses none (invariant 5).

Records are filed per AIRollout UID, so a rollout deleted and applied again under the same
name starts a log of its own instead of overwriting the first one's. Within a UID a window's
record is an entry named by the window's key, so a replay after a crash replaces its own
entry. The log rotates into numbered ConfigMaps below a byte budget (the layout lives in
`decision_layout`). The ConfigMaps have no owner on purpose: the audit trail outlives the
AIRollout it describes; retention (`prune`) removes it once its newest record is old.

Every failure of a write leaves here as a `DecisionLogError`, which the reconciler answers
by keeping the record in the status until a later write succeeds.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import urllib3
from kubernetes import client

from airollout.adapters.kubernetes.events import InvolvedRollout
from airollout.core.decision_log_layout import (
    NAME_ANNOTATION,
    NEWEST_ANNOTATION,
    PART_BUDGET_BYTES,
    LoggedRecord,
    LogPart,
    data_bytes,
    entry_name,
    entry_text,
    expired_uids,
    history,
    name_selector,
    newer,
    part_labels,
    part_name,
    uid_selector,
)
from airollout.core.resource.names import DECISION_LOG_LABEL
from airollout.core.resource.status import DecisionRecord

log = logging.getLogger("airollout.decisions")

METADATA_ONLY = {"Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"}
PAGE_SIZE = 100
TAILS_KEPT = 1024  # rollouts whose newest part is remembered; the others are looked up again


class DecisionLogError(Exception):
    """The log did not take a record (apiserver down, refused, too slow)."""


@dataclass(frozen=True)
class _Tail:
    """The part a rollout writes into now, as the apiserver last showed it."""

    part: int
    size: int
    keys: frozenset[str]
    newest: str | None


class DecisionLog:
    def __init__(self, core: client.CoreV1Api, budget_bytes: int = PART_BUDGET_BYTES) -> None:
        self.core, self.budget_bytes = core, budget_bytes
        self._tails: OrderedDict[str, _Tail] = OrderedDict()

    def write(self, ref: InvolvedRollout, key: str, record: DecisionRecord) -> None:
        entry = record.model_dump(mode="json", by_alias=True, exclude_none=True)
        # One JSON line per decision on stdout too, for whoever collects the operator's logs.
        log.info(
            json.dumps({"namespace": ref.namespace, "rollout": ref.name, "uid": ref.uid, **entry})
        )
        try:
            self._write(ref, entry_name(key), entry_text(entry), record.time)
        except (client.ApiException, urllib3.exceptions.HTTPError) as error:
            self._tails.pop(ref.uid, None)  # what we knew of the log may be wrong now
            reason = getattr(error, "reason", None) or error
            raise DecisionLogError(
                f"decision log of {ref.namespace}/{ref.name}: {reason}"
            ) from error

    def _write(self, ref: InvolvedRollout, entry: str, text: str, time: str) -> None:
        tail = self._tails.get(ref.uid) or self._find_tail(ref)
        if tail is None:
            tail = self._create(ref, 1, entry, text, time)
        elif not self._fits(tail, entry, text):
            tail = self._create(ref, tail.part + 1, entry, text, time)
        else:
            tail = self._patch(ref, tail, entry, text, time)
        self._remember(ref.uid, tail)

    def _fits(self, tail: _Tail, entry: str, text: str) -> bool:
        """A replay replaces its own entry wherever the part stands; a new entry starts the
        next part once this one would pass the budget (an empty part takes any record)."""
        grown = tail.size + len(entry.encode()) + len(text.encode())
        return entry in tail.keys or not tail.keys or grown <= self.budget_bytes

    def _patch(self, ref: InvolvedRollout, tail: _Tail, entry: str, text: str, time: str) -> _Tail:
        body = {
            "metadata": {"annotations": {NEWEST_ANNOTATION: newer(tail.newest, time)}},
            "data": {entry: text},
        }
        name = part_name(ref.name, ref.uid, tail.part)
        try:
            patched = self.core.patch_namespaced_config_map(name, ref.namespace, body)
        except client.ApiException as error:
            if error.status != 404:  # removed meanwhile (by a person or retention): start it again
                raise
            return self._create(ref, tail.part, entry, text, time)
        return _tail_of(patched)

    def _create(self, ref: InvolvedRollout, part: int, entry: str, text: str, time: str) -> _Tail:
        name = part_name(ref.name, ref.uid, part)
        metadata = client.V1ObjectMeta(
            name=name,
            labels=part_labels(ref.name, ref.uid, part),
            annotations={NAME_ANNOTATION: ref.name, NEWEST_ANNOTATION: time},
        )
        try:
            created = self.core.create_namespaced_config_map(
                ref.namespace, client.V1ConfigMap(metadata=metadata, data={entry: text})
            )
        except client.ApiException as error:
            if error.status != 409:
                raise
            return self._into_existing(ref, name, entry, text, time)
        return _tail_of(created)

    def _into_existing(
        self, ref: InvolvedRollout, name: str, entry: str, text: str, time: str
    ) -> _Tail:
        """The part was created meanwhile (a second writer, a lost answer): write into it,
        unless it is another rollout's whose UID starts the same way."""
        found = self.core.read_namespaced_config_map(name, ref.namespace)
        owner = _part_of(found.to_dict()).uid
        if owner != ref.uid:
            raise DecisionLogError(
                f"ConfigMap {ref.namespace}/{name} belongs to rollout UID {owner}"
            )
        return self._patch(ref, _tail_of(found), entry, text, time)

    def _find_tail(self, ref: InvolvedRollout) -> _Tail | None:
        """After a restart: the newest part of this UID, read once, or None if it has none."""
        numbers = [part.part for part in self._metadata(ref.namespace, uid_selector(ref.uid))]
        if not numbers:
            return None
        found = self.core.read_namespaced_config_map(
            part_name(ref.name, ref.uid, max(numbers)), ref.namespace
        )
        return _tail_of(found)

    def _remember(self, uid: str, tail: _Tail) -> None:
        self._tails[uid] = tail
        self._tails.move_to_end(uid)
        while len(self._tails) > TAILS_KEPT:
            self._tails.popitem(last=False)

    def history(self, namespace: str, rollout: str) -> list[LoggedRecord]:
        """Every record of every AIRollout named `rollout` in `namespace` (deleted ones too),
        oldest first: the API `airollout history` and the feedback loop read."""
        return history(self._parts(namespace, name_selector(rollout)), rollout)

    def records(self, ref: InvolvedRollout) -> dict[str, dict[str, Any]]:
        """One rollout's records by window key; empty if it has none yet."""
        parts = self._parts(ref.namespace, uid_selector(ref.uid))
        return {entry.key: dict(entry.record) for entry in history(parts)}

    def prune(self, namespaces: Sequence[str], cutoff: datetime) -> list[str]:
        """Delete the logs of rollouts whose newest record is older than `cutoff`; every
        namespace when `namespaces` is empty. Returns the deleted parts as namespace/name."""
        selector = f"{DECISION_LOG_LABEL}=true"
        scopes: Sequence[str | None] = namespaces or [None]
        parts = [
            part if part.annotations.get(NEWEST_ANNOTATION) else self._read(part)
            for namespace in scopes
            for part in self._metadata(namespace, selector)
        ]
        deleted = []
        for (namespace, _), names in expired_uids(parts, cutoff).items():
            for name in names:
                try:
                    self.core.delete_namespaced_config_map(name, namespace)
                except client.ApiException as error:
                    if error.status != 404:
                        raise
                deleted.append(f"{namespace}/{name}")
        return deleted

    def _read(self, part: LogPart) -> LogPart:
        """A part listed without its data, read in full (only old-layout logs need it)."""
        return _part_of(self.core.read_namespaced_config_map(part.name, part.namespace).to_dict())

    def _parts(self, namespace: str, selector: str) -> Iterator[LogPart]:
        token = None
        while True:
            page = self.core.list_namespaced_config_map(
                namespace, label_selector=selector, limit=PAGE_SIZE, _continue=token
            )
            yield from (_part_of(item.to_dict()) for item in page.items)
            token = page.metadata._continue if page.metadata is not None else None
            if not token:
                return

    def _metadata(self, namespace: str | None, selector: str) -> Iterator[LogPart]:
        """Parts without their data: a listing as cheap as the labels and annotations."""
        token: str | None = None
        while True:
            page = json.loads(self._metadata_page(namespace, selector, token))
            yield from (_part_of(item) for item in page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return

    def _metadata_page(self, namespace: str | None, selector: str, token: str | None) -> bytes:
        # The raw answer: the client cannot parse a PartialObjectMetadataList into a model.
        lister: Any = self.core
        query: dict[str, Any] = {
            "label_selector": selector,
            "limit": PAGE_SIZE,
            "_continue": token,
            "_preload_content": False,
            "_headers": METADATA_ONLY,
        }
        if namespace is None:
            answer = lister.list_config_map_for_all_namespaces(**query)
        else:
            answer = lister.list_namespaced_config_map(namespace, **query)
        return bytes(answer.data)


def _part_of(item: dict[str, Any]) -> LogPart:
    metadata = item.get("metadata") or {}
    return LogPart(
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata.get("name") or ""),
        labels=metadata.get("labels") or {},
        annotations=metadata.get("annotations") or {},
        data=item.get("data") or {},
    )


def _tail_of(config_map: client.V1ConfigMap) -> _Tail:
    part = _part_of(config_map.to_dict())
    return _Tail(
        part=part.part,
        size=data_bytes(part.data),
        keys=frozenset(part.data),
        newest=part.annotations.get(NEWEST_ANNOTATION),
    )
