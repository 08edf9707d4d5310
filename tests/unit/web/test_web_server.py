"""The HTTP glue: the token before anything else, 400 naming the field, the verdict as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airollout.web.evidence import EvidenceConflictError
from airollout.web.options import OptionError, read_token
from airollout.web.server import authorized, serve
from tests.unit.web.web_fakes import Source, Store, body, service

pytestmark = pytest.mark.unit

TOKEN = "s3cret-token"


@pytest.fixture
def endpoint() -> Iterator[tuple[str, Source]]:
    source = Source(canary=(10_000.0, 3_000.0))
    analysis, *_ = service(source)
    server = serve(analysis, TOKEN, 0, "127.0.0.1")
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/analysis", source
    finally:
        server.shutdown()
        server.server_close()


def _post(url: str, payload: Any, token: str | None = TOKEN) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.post(url, data=json.dumps(payload), headers=headers, timeout=10)


def test_without_the_token_nothing_is_read_or_judged(endpoint: tuple[str, Source]) -> None:
    url, source = endpoint
    for token in (None, "wrong", ""):
        answer = _post(url, body(), token=token)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert source.queries == []


def test_a_bad_body_is_400_naming_the_field(endpoint: tuple[str, Source]) -> None:
    url, source = endpoint
    raw = body()
    raw["analysis"]["metrics"][0]["max"] = 1.5
    answer = _post(url, raw)
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        "analysis.metrics[0].max: an errorRate bound is a fraction from 0 to 1, got 1.5"
    ]
    not_json = requests.post(
        url, data=b"{", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert not_json.status_code == 400
    assert not_json.json()["error"].startswith("body: not JSON")
    assert source.queries == []


def test_the_verdict_is_json_argo_conditions_can_read(endpoint: tuple[str, Source]) -> None:
    url, _ = endpoint
    answer = _post(url, body())
    assert answer.status_code == 200
    result = answer.json()
    assert result["decision"] == "rollback"
    assert result["window"] == 1
    assert result["summary"].startswith("Rollback: ")
    assert {"reasoning", "metrics"} <= result.keys()


def test_a_lost_race_for_the_window_is_409_so_argo_asks_again() -> None:
    class Racing(Store):
        def save(self, *args: Any) -> None:
            raise EvidenceConflictError("changed meanwhile")

    analysis, *_ = service(Source(canary=(100_000.0, 100.0)), store=Racing())
    server = serve(analysis, TOKEN, 0, "127.0.0.1")
    try:
        answer = _post(f"http://127.0.0.1:{server.server_port}/v1/analysis", body())
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status_code == 409


def test_other_paths_and_methods_are_refused(endpoint: tuple[str, Source]) -> None:
    url, _ = endpoint
    assert requests.get(url, timeout=10).status_code == 405
    assert _post(url.replace("/v1/analysis", "/v2"), body()).status_code == 404


def test_the_bearer_check() -> None:
    assert authorized(f"Bearer {TOKEN}", TOKEN)
    assert authorized(f"bearer {TOKEN}", TOKEN)
    assert not authorized(f"Basic {TOKEN}", TOKEN)
    assert not authorized(f"Bearer {TOKEN}x", TOKEN)
    assert not authorized("Bearer ", "")


def test_no_endpoint_without_a_token(tmp_path: Path) -> None:
    analysis, *_ = service(Source(canary=None))
    with pytest.raises(ValueError, match="bearer token"):
        serve(analysis, "", 0, "127.0.0.1")
    with pytest.raises(OptionError, match="--analysis-token-file or \\$AIROLLOUT_ANALYSIS_TOKEN"):
        read_token(None, {})
    empty = tmp_path / "token"
    empty.write_text("\n")
    with pytest.raises(OptionError, match="is empty"):
        read_token(str(empty), {})
    with pytest.raises(OptionError, match="No such file"):
        read_token(str(tmp_path / "missing"), {})


def test_the_token_comes_from_the_file_before_the_environment(tmp_path: Path) -> None:
    held = tmp_path / "token"
    held.write_text("from-file\n")
    assert read_token(str(held), {"AIROLLOUT_ANALYSIS_TOKEN": "from-env"}) == "from-file"
    assert read_token(None, {"AIROLLOUT_ANALYSIS_TOKEN": " from-env "}) == "from-env"
