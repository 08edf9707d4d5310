"""kopf logs in with the operator's own credentials, a token kubeconfig's included."""

from pathlib import Path

import pytest
import yaml

from airollout.adapters.kubernetes.clients import operator_clients
from airollout.controller.app import _login

pytestmark = pytest.mark.unit


def kubeconfig(path: Path, user: dict[str, str]) -> Path:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_service_account_token_reaches_kopf(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "kubeconfig", {"token": "sa-token-123"})

    login = _login(operator_clients(str(path)))

    assert login.token == "sa-token-123"
    assert login.scheme == "Bearer"
    assert login.server == "https://127.0.0.1:6443"


def test_basic_auth_keeps_its_scheme(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "kubeconfig", {"username": "admin", "password": "pw"})

    login = _login(operator_clients(str(path)))

    assert login.scheme == "Basic"
    assert login.token == "YWRtaW46cHc="  # base64 of admin:pw


def test_client_certificates_send_no_token(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "kubeconfig", {})

    login = _login(operator_clients(str(path)))

    assert login.token is None
    assert login.scheme is None
