"""The decision log's layout and how its records read back, over parts built in memory."""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from kubernetes.client import ApiException

from airollout.controller.decision_retention import RetentionSweep, parse_retention
from airollout.core.decision_log_layout import (
    NAME_ANNOTATION,
    NEWEST_ANNOTATION,
    LogPart,
    expired_uids,
    history,
    part_labels,
    part_name,
    rollout_label_value,
)

pytestmark = pytest.mark.unit

UID_A = "aaaaaaaa-1111-4000-8000-000000000001"
UID_B = "bbbbbbbb-2222-4000-8000-000000000002"


def a_part(uid: str, number: int, records: dict[str, str], newest: str | None = None) -> LogPart:
    data = {f"{key}.json": json.dumps({"time": t, "action": "hold"}) for key, t in records.items()}
    annotations = {NAME_ANNOTATION: "web-v2", **({NEWEST_ANNOTATION: newest} if newest else {})}
    return LogPart(
        "shop",
        part_name("web-v2", uid, number),
        part_labels("web-v2", uid, number),
        annotations,
        data,
    )


def test_parts_are_named_by_rollout_uid_prefix_and_number_within_253_characters() -> None:
    assert part_name("web-v2", UID_A, 3) == "web-v2-aaaaaaaa-decisions-0003"
    long = part_name("x" * 300, UID_A, 12)
    assert len(long) == 253
    assert long.endswith("-aaaaaaaa-decisions-0012")


def test_a_name_too_long_for_a_label_is_cut_with_a_digest_and_stays_distinct() -> None:
    first, second = rollout_label_value("a" * 70 + "1"), rollout_label_value("a" * 70 + "2")
    assert len(first) == 63
    assert first != second
    assert rollout_label_value("web-v2") == "web-v2"


def test_history_is_oldest_first_across_uids_with_one_record_per_uid_and_window() -> None:
    parts = [
        a_part(UID_B, 1, {"g1-s0-w1": "2026-11-26T09:00:00Z"}),
        a_part(
            UID_A, 2, {"g1-s0-w2": "2026-11-25T12:00:20.5Z", "g1-s0-w3": "2026-11-25T12:00:30Z"}
        ),
        # The same window in an earlier part: a write repeated after a rotation.
        a_part(UID_A, 1, {"g1-s0-w1": "2026-11-25T12:00:10Z", "g1-s0-w2": "2026-11-25T12:00:20Z"}),
    ]

    entries = history(parts)

    assert [(e.uid[:1], e.key) for e in entries] == [
        ("a", "g1-s0-w1"),
        ("a", "g1-s0-w2"),
        ("a", "g1-s0-w3"),
        ("b", "g1-s0-w1"),
    ]
    assert entries[1].part == 2, "the later part's copy wins"
    assert entries[0].to_json()["uid"] == UID_A


def test_history_leaves_out_another_name_that_shares_the_shortened_label() -> None:
    other = a_part(UID_B, 1, {"g1-s0-w1": "2026-11-25T12:00:00Z"})
    other = LogPart(
        other.namespace, other.name, other.labels, {NAME_ANNOTATION: "web-v3"}, other.data
    )
    assert history([other], "web-v2") == []


def test_a_rollout_expires_as_a_whole_by_its_newest_record() -> None:
    cutoff = datetime(2026, 12, 25, tzinfo=UTC)
    parts = [
        a_part(UID_A, 1, {}, newest="2026-11-25T12:00:00Z"),
        a_part(UID_A, 2, {}, newest="2026-11-25T13:00:00Z"),
        a_part(UID_B, 1, {}, newest="2026-11-20T00:00:00Z"),
        a_part(UID_B, 2, {}, newest="2026-12-26T00:00:00Z"),  # still writing: keep it all
        a_part("", 0, {"g1-s0-w1": "2026-10-01T00:00:00Z"}),  # older layout: by its records
    ]

    expired = expired_uids(parts, cutoff)

    assert expired[("shop", UID_A)] == [
        part_name("web-v2", UID_A, 1),
        part_name("web-v2", UID_A, 2),
    ]
    assert ("shop", UID_B) not in expired
    assert len(expired) == 2


@pytest.mark.parametrize(
    ("text", "seconds"), [("30d", 2592000.0), ("720h", 2592000.0), ("7d12h", 648000.0)]
)
def test_retention_reads_days_and_durations(text: str, seconds: float) -> None:
    assert parse_retention(text) == seconds


@pytest.mark.parametrize("text", ["30", "d", "0d", "thirty days", "1w"])
def test_a_retention_that_is_not_a_duration_is_refused_with_examples(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"30d, 720h|longer than 0"):
        parse_retention(text)


class RecordingPruner:
    def __init__(self, fail: bool = False) -> None:
        self.cutoffs: list[datetime] = []
        self.fail = fail

    def prune(self, namespaces: Sequence[str], cutoff: datetime) -> list[str]:
        self.cutoffs.append(cutoff)
        if self.fail:
            raise ApiException(status=503, reason="Service Unavailable")
        return ["shop/web-v2-aaaaaaaa-decisions-0001"]


def test_the_sweep_cuts_off_at_now_minus_retention_and_a_failure_is_not_raised() -> None:
    now = datetime(2026, 12, 25, tzinfo=UTC)
    pruner = RecordingPruner()
    sweep = RetentionSweep(pruner, parse_retention("30d"), ["shop"], clock=lambda: now)
    assert sweep.sweep() == ["shop/web-v2-aaaaaaaa-decisions-0001"]
    assert pruner.cutoffs == [datetime(2026, 11, 25, tzinfo=UTC)]

    failing = RetentionSweep(RecordingPruner(fail=True), 60.0, clock=lambda: now)
    assert failing.sweep() == []


def test_the_sweep_runs_at_once_and_stops_when_asked() -> None:
    pruner = RecordingPruner()
    stop = threading.Event()
    stop.set()  # stop after the first sweep instead of waiting an hour
    RetentionSweep(pruner, 60.0).run(stop, interval_s=3600.0)
    assert len(pruner.cutoffs) == 1
