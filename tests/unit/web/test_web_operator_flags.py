"""`airollout operator --analysis-port` without a token refuses to start, saying why."""

from __future__ import annotations

import pytest

from airollout.cli.main import main

pytestmark = pytest.mark.unit


def test_the_endpoint_without_a_token_stops_the_operator_before_it_connects(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AIROLLOUT_ANALYSIS_TOKEN", raising=False)
    # A kubeconfig that does not exist: reaching the cluster would fail differently.
    argv = ["operator", "--analysis-port", "18090", "--kubeconfig", "/nonexistent/kubeconfig"]
    assert main(argv) == 2
    assert "--analysis-port needs a bearer token" in capsys.readouterr().err
