"""Records the decision log has not confirmed yet, kept in the status until it has.

A verdict's record goes into `status.pendingRecords` with the rest of the step, and the
status is written first: the log's write no longer delays the verdict, and a crash or a
failing log (down, refusing, slow) never loses the record nor makes the next tick judge
the same window again. The record is written to the log right after the status; a later
status write, which happens anyway, drops the records the log has taken (`logged`).
A record not known to be logged (the write failed, or the operator restarted) is written
by a later reconcile. Writing it twice is harmless: the log is keyed by window.
"""

from __future__ import annotations

import logging
from collections.abc import Container
from typing import NamedTuple, Protocol

from airollout.adapters.kubernetes.decision_log import DecisionLogError
from airollout.adapters.kubernetes.events import InvolvedRollout
from airollout.core.resource.status import PENDING_RECORDS_KEPT, AIRolloutStatus, DecisionRecord

log = logging.getLogger("airollout.decisions")


class Written(NamedTuple):
    any: bool  # the log took at least one record
    refused: bool  # and then refused one: the others wait for a later reconcile


class RecordWriter(Protocol):
    def write(self, ref: InvolvedRollout, key: str, record: DecisionRecord) -> None: ...


def hold(
    status: AIRolloutStatus, key: str, record: DecisionRecord, ref: InvolvedRollout
) -> AIRolloutStatus:
    """The status with `record` waiting in it, to be written to the log after the status."""
    return _keep(status, record.model_copy(update={"key": key}), ref)


def write_waiting(
    writer: RecordWriter,
    ref: InvolvedRollout,
    status: AIRolloutStatus,
    logged: set[str],
    skip: Container[str] = (),
) -> Written:
    """Write the waiting records not in `logged` (nor in `skip`), oldest first, until the
    log fails; each one taken joins `logged`."""
    wrote = False
    for entry in status.pending_records:
        record = DecisionRecord.model_validate(entry)
        key = record.key or ""
        if key in logged or key in skip:
            continue
        try:
            writer.write(ref, key, record)
        except DecisionLogError as error:
            log.warning("%s; the record of %s still waits in the status", error, key)
            return Written(wrote, refused=True)
        logged.add(key)
        wrote = True
    return Written(wrote, refused=False)


def flush(
    writer: RecordWriter,
    ref: InvolvedRollout,
    status: AIRolloutStatus,
    logged: set[str] | None = None,
    skip: Container[str] = (),
    writing: bool = True,
) -> tuple[AIRolloutStatus, bool]:
    """Write the waiting records the log has not taken (but those in `skip`, written after
    this status), then drop from the status every record it has: when the status is being
    written anyway (`writing`) or a record was just written, so dropping costs no write.
    The status, and whether the log refused a record."""
    logged = set() if logged is None else logged
    wrote, refused = write_waiting(writer, ref, status, logged, skip)
    if not (writing or wrote):
        return status, refused
    left = [
        entry
        for entry in status.pending_records
        if entry.get("key") not in logged or entry.get("key") in skip
    ]
    logged.intersection_update(entry.get("key") for entry in left)  # only what may wait
    if len(left) == len(status.pending_records):
        return status, refused
    return status.model_copy(update={"pending_records": left}), refused


def _keep(status: AIRolloutStatus, record: DecisionRecord, ref: InvolvedRollout) -> AIRolloutStatus:
    entry = record.model_dump(mode="json", by_alias=True, exclude_none=True)
    pending = [*status.pending_records, entry]
    for dropped in pending[:-PENDING_RECORDS_KEPT]:
        # The operator's own log line of that record (written before the attempt) remains.
        log.error(
            "%s/%s: record %s dropped, %d wait already",
            *_names(ref),
            dropped.get("key"),
            PENDING_RECORDS_KEPT,
        )
    return status.model_copy(update={"pending_records": pending[-PENDING_RECORDS_KEPT:]})


def _names(ref: InvolvedRollout) -> tuple[str, str]:
    return ref.namespace, ref.name
