"""Records the decision log did not take, kept in the status until it does.

A verdict is saved in the status with the rest of the step whether or not its log write
worked, so a failing log (down, refusing, slow) never makes the next tick judge the same
window again. The record waits in `status.pendingRecords`; later reconciles write it and
drop it once the log has it. Writing it twice is harmless: the log is keyed by window.
"""

from __future__ import annotations

import logging
from typing import Protocol

from airollout.adapters.kubernetes.decision_log import DecisionLogError
from airollout.adapters.kubernetes.events import InvolvedRollout
from airollout.core.resource.status import PENDING_RECORDS_KEPT, AIRolloutStatus, DecisionRecord

log = logging.getLogger("airollout.decisions")


class RecordWriter(Protocol):
    def write(self, ref: InvolvedRollout, key: str, record: DecisionRecord) -> None: ...


def write_or_keep(
    writer: RecordWriter,
    ref: InvolvedRollout,
    key: str,
    record: DecisionRecord,
    status: AIRolloutStatus,
) -> tuple[AIRolloutStatus, bool]:
    """The status after logging `record`, and whether the log took it."""
    try:
        writer.write(ref, key, record)
    except DecisionLogError as error:
        log.warning("%s; the record of %s waits in the status", error, key)
        return _keep(status, record.model_copy(update={"key": key}), ref), False
    return status, True


def flush(writer: RecordWriter, ref: InvolvedRollout, status: AIRolloutStatus) -> AIRolloutStatus:
    """Write the waiting records, oldest first, until the log fails; drop those it took."""
    taken = 0
    for entry in status.pending_records:
        record = DecisionRecord.model_validate(entry)
        try:
            writer.write(ref, record.key or "", record)
        except DecisionLogError as error:
            log.warning("%s; %d records still wait", error, len(status.pending_records) - taken)
            break
        taken += 1
    if not taken:
        return status
    return status.model_copy(update={"pending_records": status.pending_records[taken:]})


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
