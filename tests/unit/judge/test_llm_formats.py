"""The answer format falls back json_schema -> json_object -> plain JSON, once per endpoint."""

from __future__ import annotations

import pytest

from airollout.adapters.llm.openai_judge import LLMJudge, LLMSettings
from airollout.core.judge.types import Action
from tests.support.fake_openai import FakeOpenAI, answer, completion, error

pytestmark = pytest.mark.unit

MESSAGES = [{"role": "user", "content": "decide, answering in JSON"}]


def make_judge(fake: FakeOpenAI, **overrides: object) -> LLMJudge:
    settings = LLMSettings(**{"model": "small", "base_url": fake.base_url, **overrides})  # type: ignore[arg-type]
    return LLMJudge(settings, sleep=lambda _: None, jitter=lambda: 1.0)


def formats_asked(fake: FakeOpenAI) -> list[str]:
    return [(r.body.get("response_format") or {}).get("type", "prompt") for r in fake.requests]


def test_a_500_refusing_json_schema_falls_back_to_json_object_and_is_recorded(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.refused_formats = {"json_schema"}
    fake_openai.script(answer("hold", "thin evidence"))
    opinion = make_judge(fake_openai).ask(MESSAGES)
    assert (opinion.action, opinion.error) == (Action.HOLD, None)
    assert opinion.response_format == "json_object"
    assert formats_asked(fake_openai) == ["json_schema", "json_object"]


def test_the_endpoint_is_remembered_so_later_windows_skip_the_refused_format(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.refused_formats = {"json_schema"}
    fake_openai.script(answer("proceed"), answer("proceed"), answer("hold"))
    judge = make_judge(fake_openai)
    opinions = [judge.ask(MESSAGES) for _ in range(3)]
    assert [o.action for o in opinions] == [Action.PROCEED, Action.PROCEED, Action.HOLD]
    assert formats_asked(fake_openai) == ["json_schema", *["json_object"] * 3]
    assert judge.answer_format() == "json_object"


def test_a_server_refusing_both_formats_is_asked_for_plain_json_in_the_prompt(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.refused_formats = {"json_schema", "json_object"}
    fake_openai.script(answer("rollback", "errors doubled"))
    opinion = make_judge(fake_openai, max_attempts=1).ask(MESSAGES)
    # Stepping down is not an attempt: one attempt is enough to reach the plain request.
    assert (opinion.action, opinion.response_format) == (Action.ROLLBACK, "prompt")
    assert formats_asked(fake_openai) == ["json_schema", "json_object", "prompt"]


def test_a_500_that_does_not_name_the_format_is_retried_not_taken_as_a_refusal(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script(error(500, message="CUDA out of memory"), answer("proceed"))
    opinion = make_judge(fake_openai).ask(MESSAGES)
    assert opinion.action is Action.PROCEED
    assert formats_asked(fake_openai) == ["json_schema", "json_schema"]
    assert opinion.response_format == "json_schema"


def test_a_422_naming_the_schema_steps_down_too(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(error(422, message="Unsupported JSON schema feature"), answer("hold"))
    opinion = make_judge(fake_openai).ask(MESSAGES)
    assert opinion.response_format == "json_object"


def test_an_invalid_answer_is_recorded_with_its_reason_and_the_format_used(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.refused_formats = {"json_schema"}
    fake_openai.script(completion("I think it is fine"))
    opinion = make_judge(fake_openai).ask(MESSAGES)
    assert opinion.action is None
    assert opinion.error == "malformed answer: no JSON object in the content"
    assert opinion.response_format == "json_object"


def test_without_structured_output_the_first_request_asks_in_the_prompt_only(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script(answer("proceed"))
    opinion = make_judge(fake_openai, structured_output=False).ask(MESSAGES)
    assert (opinion.action, opinion.response_format) == (Action.PROCEED, "prompt")
    assert formats_asked(fake_openai) == ["prompt"]
