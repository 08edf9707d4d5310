"""`airollout history` against a real apiserver: every rollout of a name, oldest first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from airollout.adapters.kubernetes.decision_log import DecisionLog
from airollout.adapters.kubernetes.events import InvolvedRollout
from airollout.cli.main import main
from airollout.core.resource.status import DecisionRecord

pytestmark = pytest.mark.cluster

NAME = "checkout-4f2a1c"
FIRST_UID = "1f0c2a3b-0000-4000-8000-00000000000a"
SECOND_UID = "9e8d7c6b-0000-4000-8000-00000000000b"


def a_record(key: str, time: str, action: str, reasoning: str) -> DecisionRecord:
    return DecisionRecord(time=time, action=action, key=key, reasoning=reasoning, weight=10)


@pytest.fixture
def logged(kube_api: client.ApiClient, namespace: str) -> str:
    """Two rollouts of one name (the first deleted, then applied again), written out of
    order, and a rollout of another name that must not show."""
    decisions = DecisionLog(client.CoreV1Api(kube_api))
    first, second = (
        InvolvedRollout(namespace, NAME, FIRST_UID),
        InvolvedRollout(namespace, NAME, SECOND_UID),
    )
    decisions.write(
        second, "g1-s0-w1", a_record("g1-s0-w1", "2026-11-26T09:00:10Z", "proceed", "Healthy.")
    )
    decisions.write(
        first,
        "g1-s0-w1",
        a_record("g1-s0-w1", "2026-11-25T12:00:10Z", "hold", "Too few requests.\nMore."),
    )
    decisions.write(
        first, "g1-s0-w2", a_record("g1-s0-w2", "2026-11-25T12:00:20Z", "rollback", "Errors 5 %.")
    )
    other = InvolvedRollout(namespace, "checkout-other", "77777777-0000-4000-8000-00000000000c")
    decisions.write(other, "g1-s0-w1", a_record("g1-s0-w1", "2026-11-25T11:00:00Z", "hold", "x"))
    return namespace


def test_history_json_lists_every_record_of_the_name_oldest_first(
    crd_installed: Path, logged: str, capsys: Any
) -> None:
    code = main(["history", NAME, "-n", logged, "--kubeconfig", str(crd_installed), "--json"])

    records = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(r["uid"], r["key"], r["action"], r["time"]) for r in records] == [
        (FIRST_UID, "g1-s0-w1", "hold", "2026-11-25T12:00:10Z"),
        (FIRST_UID, "g1-s0-w2", "rollback", "2026-11-25T12:00:20Z"),
        (SECOND_UID, "g1-s0-w1", "proceed", "2026-11-26T09:00:10Z"),
    ]
    assert records[0]["reasoning"] == "Too few requests.\nMore.", "the whole record"


def test_history_prints_a_table_with_short_uids_and_one_line_each(
    crd_installed: Path, logged: str, capsys: Any
) -> None:
    code = main(["history", NAME, "-n", logged, "--kubeconfig", str(crd_installed)])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0].split() == ["TIME", "UID", "WINDOW", "ACTION", "SUMMARY"]
    assert [line.split()[:4] for line in lines[1:]] == [
        ["2026-11-25T12:00:10Z", "1f0c2a3b", "g1-s0-w1", "hold"],
        ["2026-11-25T12:00:20Z", "1f0c2a3b", "g1-s0-w2", "rollback"],
        ["2026-11-26T09:00:10Z", "9e8d7c6b", "g1-s0-w1", "proceed"],
    ]
    assert lines[1].endswith("Too few requests."), "the first line of the reasoning"


def test_history_of_a_name_never_logged_says_so(
    crd_installed: Path, namespace: str, capsys: Any
) -> None:
    code = main(["history", "nothing-here", "-n", namespace, "--kubeconfig", str(crd_installed)])

    assert code == 0
    assert capsys.readouterr().out.strip() == f"No decisions recorded for {namespace}/nothing-here."
