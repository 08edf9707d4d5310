"""Asking the test-selection advisor, through the judge's OpenAI-compatible settings.

One question, one deadline: selection must not hold up a pipeline, so a timeout, a 429 or
any other failure is not retried, it is the answer "not used" with the reason. A server
that refuses a response_format is asked again in the next weaker one, as the judge does.
The API key never appears in what this returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from airollout.adapters.llm.openai_judge import (
    ANSWER_FORMATS,
    AnswerFormat,
    CallFailure,
    LLMSettings,
)
from airollout.core.judge.prompt import redact
from airollout.core.selection.advisor import ADVICE_SCHEMA

RESPONSE_FORMATS: Mapping[AnswerFormat, Any] = {
    "json_schema": {
        "type": "json_schema",
        "json_schema": {"name": "test_plan_advice", "strict": True, "schema": ADVICE_SCHEMA},
    },
    "json_object": {"type": "json_object"},
    "prompt": openai.omit,
}


@dataclass(frozen=True)
class AdvisorReply:
    """The model's content, or why there is none."""

    content: str | None
    error: str = ""


def ask_advisor(
    settings: LLMSettings,
    messages: Sequence[Mapping[str, str]],
    clock: Callable[[], float] = time.monotonic,
) -> AdvisorReply:
    client = openai.OpenAI(
        base_url=settings.base_url,
        api_key=settings.api_key or "not-needed",  # local servers often take no key
        timeout=settings.timeout_s,
        max_retries=0,
    )
    secrets = (settings.api_key,) if settings.api_key else ()
    try:
        reply = _ask(client, settings, messages, clock() + settings.timeout_s, clock)
    finally:
        client.close()
    return AdvisorReply(reply.content, redact(reply.error, secrets)[:500])


def _ask(
    client: openai.OpenAI,
    settings: LLMSettings,
    messages: Sequence[Mapping[str, str]],
    deadline: float,
    clock: Callable[[], float],
) -> AdvisorReply:
    formats = ANSWER_FORMATS if settings.structured_output else ("prompt",)
    for answer_format in formats:
        remaining = deadline - clock()
        if remaining <= 0:
            break
        outcome = _attempt(client, settings, messages, answer_format, remaining)
        if isinstance(outcome, AdvisorReply):
            return outcome
        if answer_format == "prompt" or not outcome.refuses_format():
            return AdvisorReply(None, outcome.message)
    return AdvisorReply(None, f"no answer within {settings.timeout_s:g}s")


def _attempt(
    client: openai.OpenAI,
    settings: LLMSettings,
    messages: Sequence[Mapping[str, str]],
    answer_format: AnswerFormat,
    timeout_s: float,
) -> AdvisorReply | CallFailure:
    try:
        response = client.chat.completions.create(
            model=settings.model,
            messages=cast("list[ChatCompletionMessageParam]", list(messages)),
            response_format=RESPONSE_FORMATS[answer_format],
            max_tokens=settings.max_tokens or openai.omit,
            temperature=0,
            timeout=timeout_s,
        )
    except openai.APITimeoutError:
        return AdvisorReply(None, f"timed out after {timeout_s:.1f}s")
    except openai.APIStatusError as exc:
        status = exc.response.status_code
        return CallFailure(f"HTTP {status}: {exc.message}", False, status, body=exc.response.text)
    except (openai.OpenAIError, ValueError) as exc:  # connection, or a body that is not JSON
        return AdvisorReply(None, f"{type(exc).__name__}: {exc}")
    if not response.choices:
        return AdvisorReply(None, "no choices in the response")
    message = response.choices[0].message
    if message.refusal:
        return AdvisorReply(None, f"refused: {message.refusal}")
    if not message.content:
        return AdvisorReply(None, "empty answer")
    return AdvisorReply(message.content)
