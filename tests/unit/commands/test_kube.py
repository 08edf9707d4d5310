"""Reaching the cluster: the kubeconfig context's namespace, and errors as one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from airollout.commands.kube import CommandError, api_error_line, connect

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

    _, namespace = connect(str(path), None)

    assert namespace == "shop"


def test_a_context_without_a_namespace_means_default(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "config", {"shop": "shop", "bare": None}, current="shop")

    _, namespace = connect(str(path), "bare")

    assert namespace == "default"


def test_an_unknown_context_is_a_command_error(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "config", {"shop": "shop"}, current="shop")

    with pytest.raises(CommandError, match="'nope' is not in the kubeconfig"):
        connect(str(path), "nope")


def test_a_missing_kubeconfig_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not a readable file"):
        connect(str(tmp_path / "absent"), None)


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
