"""With the analysis endpoint on, its evidence is swept with the decision log's retention."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from airollout.cli import operator
from airollout.cli.main import main
from airollout.web.evidence import ConfigMapEvidence

pytestmark = pytest.mark.unit


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The sweeps `airollout operator` starts, with the endpoint and the operator stubbed."""
    sweeps: list[Any] = []
    monkeypatch.setattr(operator.app, "run", lambda args: 0)
    monkeypatch.setattr(operator, "operator_clients", lambda *a, **k: argparse.Namespace(core=None))
    monkeypatch.setattr(operator.RetentionSweep, "start", lambda sweep: sweeps.append(sweep))
    return sweeps


def test_the_endpoint_starts_a_sweep_of_its_evidence(
    monkeypatch: pytest.MonkeyPatch, started: list[Any]
) -> None:
    monkeypatch.setattr(operator.options, "start", lambda args, url: object())
    argv = ["operator", "--analysis-port", "18090", "--decision-log-retention", "7d", "-n", "shop"]
    assert main(argv) == 0
    (sweep,) = started
    assert isinstance(sweep.log_store, ConfigMapEvidence)
    assert sweep.retention.total_seconds() == 7 * 86400
    assert sweep.namespaces == ("shop",)


def test_without_the_endpoint_no_evidence_sweep_starts(
    monkeypatch: pytest.MonkeyPatch, started: list[Any]
) -> None:
    monkeypatch.setattr(operator.options, "start", lambda args, url: None)
    assert main(["operator"]) == 0
    assert started == []
