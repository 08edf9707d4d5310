"""`airollout select plan --llm-endpoint`: the advisor over the real `openai` client, against
a fake server that speaks the wire protocol, on a real tiny repository and index.

The index's plan for the change is [SUB]; each test scripts what the model answers and
checks that the plan only ever widens, and that a failed ask leaves it as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airollout.cli.main import main
from tests.support.fake_openai import FakeOpenAI, Reply, completion, error, running_fake
from tests.unit.selection.test_select_cli_repo import ADD, SUB, TOTAL, change, indexed

pytestmark = pytest.mark.unit
__all__ = ["indexed"]  # the module-scoped repository fixture, used here by name


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    yield from running_fake()


def advice(**answer: Any) -> Reply:
    return completion(json.dumps({"add_tests": [], "risk_tier": None, "note": "", **answer}))


def advised_plan(
    indexed: tuple[Path, Path],
    fake: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
    *extra: str,
) -> dict[str, Any]:
    repo, index = indexed
    change(repo, "sub", "calc/ops.py", "return a - b", "return b - a")
    capsys.readouterr()
    command = ["select", "plan", "--repo", str(repo), "--base", "main", "--index", str(index)]
    llm = ["--llm-endpoint", fake.base_url, "--llm-model", "m", "--json"]
    assert main([*command, *llm, *extra]) == 0
    plan: dict[str, Any] = json.loads(capsys.readouterr().out)
    return plan


def test_the_advisor_adds_a_known_test_and_sees_the_change_and_candidates(
    indexed: tuple[Path, Path], fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.script(advice(add_tests=[ADD], note="add() shares the module"))
    plan = advised_plan(indexed, fake, capsys)
    assert plan["tests"] == [SUB, ADD]
    assert sorted(t for shard in plan["shards"] for t in shard) == sorted([SUB, ADD])
    assert plan["advisor"] == {
        "used": True,
        "added": [ADD],
        "raised_tier": None,
        "note": "advisor: +1 tests; add() shares the module",
    }
    assert "advisor: +1 tests" in plan["reasoning"]
    asked = json.loads(fake.requests[0].body["messages"][1]["content"])
    assert asked["change"]["files"] == [
        {"path": "calc/ops.py", "status": "modified", "lines_removed": 1, "insertions": 0,
         "hunks": 1}
    ]  # fmt: skip
    assert asked["plan"]["tests"] == [SUB]
    assert set(asked["candidates"]) == {ADD, TOTAL}
    assert fake.requests[0].body["response_format"]["type"] == "json_schema"


def test_an_answer_that_removes_a_test_or_names_an_unknown_one_is_ignored_there(
    indexed: tuple[Path, Path], fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.script(
        completion(
            json.dumps(
                {"add_tests": ["tests/test_gone.py::test_x"], "remove_tests": [SUB],
                 "risk_tier": "low", "note": "sub is covered elsewhere"}
            )
        )
    )  # fmt: skip
    plan = advised_plan(indexed, fake, capsys)
    assert plan["tests"] == [SUB]
    assert plan["advisor"]["used"] is True
    assert plan["advisor"]["added"] == []
    note = plan["advisor"]["note"]
    assert "1 unknown node ids ignored (tests/test_gone.py::test_x)" in note
    assert "asked to remove 1 tests: ignored" in note


def test_raising_the_tier_to_high_escalates_to_the_full_suite(
    indexed: tuple[Path, Path], fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.script(advice(risk_tier="high", note="subtraction order is a contract"))
    plan = advised_plan(indexed, fake, capsys)
    assert (plan["risk_tier"], plan["full_suite"]) == ("high", True)
    assert set(plan["tests"]) == {ADD, SUB, TOTAL}
    assert plan["tests"][0] == SUB  # the index's own choice still runs first
    assert plan["advisor"]["raised_tier"] == "high"


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (Reply(body=b"{}", delay_s=5.0), "timed out after"),
        (error(429, {"retry-after": "1"}, "rate limited"), "HTTP 429"),
        (completion("sure! {add_tests: [oops"), "malformed answer"),
        (completion(None, refusal="I cannot help with that"), "refused"),
    ],
    ids=["timeout", "429", "malformed", "refusal"],
)
def test_a_late_or_unusable_answer_leaves_the_index_plan_and_says_so(
    indexed: tuple[Path, Path],
    fake: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
    reply: Reply,
    why: str,
) -> None:
    fake.script(reply)
    plan = advised_plan(indexed, fake, capsys, "--llm-timeout", "0.5")
    assert plan["tests"] == [SUB]
    assert (plan["risk_tier"], plan["full_suite"]) == ("low", False)
    assert plan["advisor"]["used"] is False
    assert plan["advisor"]["note"].startswith("advisor not used: ")
    assert why in plan["advisor"]["note"]
    assert plan["advisor"]["note"] in plan["reasoning"]
    assert len(fake.requests) == 1  # a 429 is not waited out: selection holds nothing up


def test_a_format_refusal_is_asked_again_in_plain_json(
    indexed: tuple[Path, Path], fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.refused_formats = {"json_schema", "json_object"}
    fake.script(completion(f"```json\n{json.dumps({'add_tests': [TOTAL]})}\n```"))
    plan = advised_plan(indexed, fake, capsys)
    assert plan["advisor"]["added"] == [TOTAL]
    assert [r.body.get("response_format", {}).get("type") for r in fake.requests] == [
        "json_schema",
        "json_object",
        None,
    ]


def test_the_api_key_comes_from_the_named_variable_and_never_reaches_the_plan(
    indexed: tuple[Path, Path],
    fake: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SELECT_KEY", "sk-secret-123")
    fake.script(error(401, message="bad key sk-secret-123"))
    plan = advised_plan(indexed, fake, capsys, "--llm-api-key-env", "SELECT_KEY")
    headers = {name.lower(): value for name, value in fake.requests[0].headers.items()}
    assert headers["authorization"] == "Bearer sk-secret-123"
    assert "sk-secret-123" not in json.dumps(plan)
    assert "HTTP 401" in plan["advisor"]["note"]


def test_an_endpoint_without_a_model_is_refused_naming_both_flags(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, index = indexed
    command = ["select", "plan", "--repo", str(repo), "--base", "main", "--index", str(index)]
    assert main([*command, "--llm-endpoint", "http://127.0.0.1:9/v1"]) == 2
    assert "--llm-endpoint and --llm-model" in capsys.readouterr().err
