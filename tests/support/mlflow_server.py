"""A real MLflow tracking server (mlflow 3.17.2, sqlite, loopback) for the tests of a session.

The server lives in a venv of its own under the airollout cache, installed on first use
(`localcluster.mlflow_server.server_venv`), so a fresh machine needs nothing beforehand.
A test module uses it by importing the fixture:

    from tests.support.mlflow_server import mlflow_uri  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localcluster.mlflow_server import mlflow_server_running


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with mlflow_server_running(tmp_path_factory.mktemp("mlflow")) as uri:
        yield uri
