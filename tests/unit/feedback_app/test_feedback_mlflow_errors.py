"""An MLflow server that does not answer: one MlflowError naming it, not a library trace."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airollout.adapters.mlflow.tracking import MlflowError, MlflowTracker, RolloutRun
from localcluster.ports import free_loopback_ports

pytestmark = pytest.mark.unit


def test_an_unreachable_server_is_an_mlflow_error_naming_the_uri_and_the_rollout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    uri = f"http://127.0.0.1:{free_loopback_ports(1)[0]}"  # nothing listens there
    run = RolloutRun(
        uid="u-1",
        namespace="shop",
        name="checkout-1",
        params={},
        windows=(),
        finished_at=datetime(2026, 11, 30, tzinfo=UTC),
    )

    with pytest.raises(MlflowError) as raised:
        MlflowTracker(uri).log_rollout(run)

    assert f"MLflow at {uri}: rollout shop/checkout-1:" in str(raised.value)
