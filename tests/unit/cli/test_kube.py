"""Reaching the cluster: the kubeconfig context's namespace, and errors as one line."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from airollout.adapters.kubernetes import rollout_objects
from airollout.adapters.kubernetes.clients import cli_client
from airollout.adapters.kubernetes.rollout_objects import (
    CommandError,
    RolloutRef,
    Rollouts,
    WatchExpiredError,
    WatchInterruptedError,
    api_error_line,
)

pytestmark = pytest.mark.unit


def kubeconfig(path: Path, namespaces: dict[str, str | None], current: str) -> Path:
    contexts = []
    for name, namespace in namespaces.items():
        context = {"cluster": "local", "user": "admin"}
        if namespace:
            context["namespace"] = namespace
        contexts.append({"name": name, "context": context})
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "local", "cluster": {"server": "https://127.0.0.1:6443"}}],
                "users": [{"name": "admin", "user": {"token": "t"}}],
                "contexts": contexts,
                "current-context": current,
            }
        )
    )
    return path


def test_the_namespace_is_the_current_contexts(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "config", {"shop": "shop", "bare": None}, current="shop")

    _, namespace = cli_client(str(path), None)

    assert namespace == "shop"


def test_a_context_without_a_namespace_means_default(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "config", {"shop": "shop", "bare": None}, current="shop")

    _, namespace = cli_client(str(path), "bare")

    assert namespace == "default"


def test_an_unknown_context_is_a_command_error(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "config", {"shop": "shop"}, current="shop")

    with pytest.raises(CommandError, match="'nope' is not in the kubeconfig"):
        cli_client(str(path), "nope")


def test_a_missing_kubeconfig_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not a readable file"):
        cli_client(str(tmp_path / "absent"), None)


def test_a_forbidden_answer_keeps_the_apiservers_message_on_one_line() -> None:
    error = ApiException(status=403, reason="Forbidden")
    error.body = json.dumps(
        {"message": 'airollouts.airollout.dev "foo" is forbidden:\nUser "ana" cannot patch'}
    )

    line = api_error_line(error)

    assert line == (
        'the API server answered 403: airollouts.airollout.dev "foo" is forbidden: '
        'User "ana" cannot patch'
    )


def version(number: int) -> dict[str, Any]:
    return {"metadata": {"resourceVersion": str(number)}, "status": {"phase": "Progressing"}}


class ScriptedWatches:
    """Each call of _watch plays the next script entry: versions to yield, then an error."""

    def __init__(self, script: list[tuple[list[int], Exception | None]]) -> None:
        self.script = script
        self.started_from: list[str] = []

    def __call__(self, ref: RolloutRef, since: str, remaining: float) -> Iterator[dict[str, Any]]:
        self.started_from.append(since)
        numbers, error = self.script.pop(0) if self.script else ([], None)
        yield from (version(number) for number in numbers)
        if error is not None:
            raise error


def test_follow_resumes_from_the_last_version_and_rereads_after_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rollouts = Rollouts(client.ApiClient())
    reads = iter([version(1), version(7)])
    monkeypatch.setattr(rollouts, "get", lambda ref: next(reads))
    watches = ScriptedWatches(
        [
            ([2, 3], None),  # the apiserver ends a watch chunk
            ([4], WatchExpiredError()),  # 410: read afresh
            ([8], WatchInterruptedError()),  # connection lost: note it, reconnect
            ([9], None),
        ]
    )
    monkeypatch.setattr(rollouts, "_watch", watches)
    monkeypatch.setattr(rollout_objects, "RECONNECT_PAUSE_S", 0.0)
    notes: list[str] = []

    seen = []
    for snapshot in rollouts.follow(RolloutRef("shop", "r"), time.monotonic() + 60, notes.append):
        seen.append(int(snapshot["metadata"]["resourceVersion"]))
        if len(seen) == 7:
            break

    assert seen == [1, 2, 3, 4, 7, 8, 9]
    assert watches.started_from == ["1", "3", "7", "8"]
    assert len(notes) == 1
