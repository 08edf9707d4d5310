"""The LLM judge: one chat completion per window against any OpenAI-compatible endpoint.

The client's own retries are off (`max_retries=0`): retries happen here, where they are
bounded by an attempt count and a total deadline, honour `Retry-After`, and can be tested
with an injected sleep. Whatever goes wrong, the judge returns an `Opinion` with no action
and the reason in `error`; it never raises to the caller (safety invariant 3 lets the rules
decision stand). The API key is held out of reprs, prompts, errors and logs (invariant 6).
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import os
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from airollout.core.judge.prompt import PastDecision, build_messages, redact
from airollout.core.judge.types import Action, DecisionContext, Opinion, Verdict
from airollout.core.resource.spec import LLMSpec

log = logging.getLogger(__name__)

REASONING_MAX_CHARS = 2000
RETRYABLE_STATUS = frozenset({408, 409, 429})
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)

# How the answer's shape is asked for, most to least strict. Servers that cannot honour a
# format say so in different ways: OpenAI answers 400, vLLM 400 or 422, llama-cpp-python's
# server 500 with the exception's text; "prompt" is plain JSON asked for in the prompt alone.
AnswerFormat = Literal["json_schema", "json_object", "prompt"]
ANSWER_FORMATS: tuple[AnswerFormat, ...] = ("json_schema", "json_object", "prompt")
FORMAT_REFUSAL_STATUS = frozenset({400, 422, 500, 501})
_FORMAT_REFUSAL = re.compile(
    r"response_format|json_schema|json_object|schema|grammar|not supported|unsupported",
    re.IGNORECASE,
)


class LLMAnswer(BaseModel):
    """The only answer shape accepted from the model; anything else is ignored."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    action: Literal["proceed", "hold", "rollback"]
    reasoning: str = Field(max_length=REASONING_MAX_CHARS)
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)


ANSWER_FORMAT: ResponseFormatJSONSchema = {
    "type": "json_schema",
    "json_schema": {
        "name": "rollout_verdict",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ["proceed", "hold", "rollback"]},
                "reasoning": {"type": "string"},
                "confidence": {"type": ["number", "null"]},
            },
            "required": ["action", "reasoning", "confidence"],
            "additionalProperties": False,
        },
    },
}


@dataclass(frozen=True, slots=True)
class LLMSettings:
    """Where and how to ask. `api_key` is the value itself, read from a Secret or env var."""

    model: str
    base_url: str | None = None
    api_key: str = field(default="", repr=False)
    timeout_s: float = 20.0  # one request
    deadline_s: float = 60.0  # every attempt and every wait together
    max_attempts: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_max_s: float = 30.0  # a server asking for longer is not waited for longer
    structured_output: bool = True  # start at json_schema; False: plain JSON in the prompt
    # A cap on the answer's tokens; None sends none (OpenAI's reasoning models refuse
    # `max_tokens`). Small local models under a JSON grammar may otherwise write until their
    # context is full.
    max_tokens: int | None = None

    @classmethod
    def from_spec(cls, spec: LLMSpec, api_key: str, deadline_s: float | None = None) -> LLMSettings:
        """Settings from the resource's `judge.llm`; the key is what its Secret holds.

        Without `deadline_s`, every attempt may use its whole timeout plus half a minute
        of waiting between attempts.
        """
        attempts = spec.max_retries + 1
        return cls(
            model=spec.model,
            base_url=spec.base_url,
            api_key=api_key,
            timeout_s=spec.timeout_seconds,
            max_attempts=attempts,
            deadline_s=deadline_s or spec.timeout_seconds * attempts + 30.0,
        )


def api_key_from_env(variable: str) -> str:
    """The key held in environment variable `variable`, or "" when unset."""
    return os.environ.get(variable, "")


AnswerT = TypeVar("AnswerT", bound=BaseModel)


class InvalidAnswerError(ValueError):
    """The model's content is not one valid answer object."""


def parse_answer(content: str) -> LLMAnswer:
    """The answer in `content`: plain JSON, or the first JSON object inside prose or a fence."""
    return parse_json_answer(content, LLMAnswer)


def parse_json_answer(content: str, shape: type[AnswerT]) -> AnswerT:
    """`parse_answer` for any answer model (the promotion narrative has its own)."""
    text = content.strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        match = _JSON_OBJECT.search(text)
        if match is None:
            raise InvalidAnswerError("malformed answer: no JSON object in the content") from None
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError as exc:
            raise InvalidAnswerError(f"malformed answer: invalid JSON ({exc.msg})") from None
    try:
        return shape.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidAnswerError(f"answer fails the schema: {problems}") from None


def retry_after_s(headers: Mapping[str, str], now: float) -> float | None:
    """The wait a server asked for: `retry-after-ms`, or `Retry-After` in seconds or a date."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


@dataclass(frozen=True, slots=True)
class CallFailure:
    """Why a call gave no completion: the judge's, and the selection advisor's too."""

    message: str
    retryable: bool
    status: int | None = None
    wait_s: float | None = None  # what the server asked for, if it did
    body: str = ""  # the error body as the server sent it, for telling a format refusal apart

    def refuses_format(self) -> bool:
        """Whether the server said it cannot answer in the requested format.

        A 400 to a request with a response_format is taken as one whatever its text (the
        historical behaviour: the only thing such a request adds is the format); other
        statuses must name the format or its support in the message or body.
        """
        if self.status not in FORMAT_REFUSAL_STATUS:
            return False
        return self.status == 400 or bool(_FORMAT_REFUSAL.search(f"{self.message} {self.body}"))


def response_format_param(answer_format: AnswerFormat) -> Any:
    """The request's `response_format` for one format; omitted for plain JSON."""
    if answer_format == "json_schema":
        return ANSWER_FORMAT
    if answer_format == "json_object":
        return {"type": "json_object"}
    return openai.omit


class LLMJudge:
    """Asks the model for an action; see the module docstring for the failure contract."""

    name = "llm"

    def __init__(
        self,
        settings: LLMSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self._sleep, self._clock, self._wall_clock, self._jitter = sleep, clock, wall_clock, jitter
        self._client = openai.OpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key or "not-needed",  # local servers often take no key
            timeout=settings.timeout_s,
            max_retries=0,
        )
        # What each endpoint (base URL and model) was last found to accept, so a server that
        # refuses json_schema is not asked for it again at every window.
        self._accepted: dict[tuple[str | None, str], AnswerFormat] = {}

    def answer_format(self) -> AnswerFormat:
        """The format the next request asks for: the strictest not yet refused here."""
        first: AnswerFormat = "json_schema" if self.settings.structured_output else "prompt"
        return self._accepted.get(self._endpoint(), first)

    def close(self) -> None:
        """Release the HTTP connection pool; the judge cannot ask again afterwards."""
        self._client.close()

    def _endpoint(self) -> tuple[str | None, str]:
        return (self.settings.base_url, self.settings.model)

    def _step_down(self, refused: AnswerFormat, failure: CallFailure) -> None:
        weaker = ANSWER_FORMATS[ANSWER_FORMATS.index(refused) + 1]
        log.info(
            "LLM endpoint refused response_format %s (%s); asking for %s from now on",
            refused,
            self._redact(failure.message),
            weaker,
        )
        self._accepted[self._endpoint()] = weaker

    def opinion(
        self, context: DecisionContext, rules: Verdict, history: Sequence[PastDecision] = ()
    ) -> Opinion:
        """The LLM's opinion on this window, given the rules verdict and recent history."""
        return self.ask(build_messages(context, rules, history, self._secrets()))

    def ask(self, messages: Sequence[Mapping[str, str]]) -> Opinion:
        started = self._clock()
        try:
            return self._ask_with_retries(messages, started)
        except Exception as exc:  # invariant 3: no failure of this judge reaches the caller
            return self._failed(f"unexpected {type(exc).__name__}: {exc}", started)

    def _ask_with_retries(self, messages: Sequence[Mapping[str, str]], started: float) -> Opinion:
        deadline = started + self.settings.deadline_s
        attempt = 0
        while attempt < self.settings.max_attempts:
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            answer_format = self.answer_format()
            timeout_s = min(self.settings.timeout_s, remaining)
            outcome = self._attempt(messages, timeout_s, answer_format)
            if isinstance(outcome, ChatCompletion):
                return self._read(outcome, started, answer_format)
            if answer_format != "prompt" and outcome.refuses_format():
                # Not an attempt at an answer: the server turned the format down, not the ask.
                self._step_down(answer_format, outcome)
                continue
            attempt += 1
            if not outcome.retryable or attempt == self.settings.max_attempts:
                return self._failed(f"{outcome.message} (attempt {attempt})", started)
            wait = self._wait_s(attempt, outcome)
            if self._clock() + wait >= deadline:
                return self._failed(
                    f"{outcome.message}; retrying after {wait:.1f}s would pass the "
                    f"{self.settings.deadline_s:g}s deadline (attempt {attempt})",
                    started,
                )
            log.info(
                "LLM attempt %d failed (%s); retrying in %.2fs",
                attempt,
                self._redact(outcome.message),
                wait,
            )
            self._sleep(wait)
        return self._failed(f"deadline of {self.settings.deadline_s:g}s passed", started)

    def _attempt(
        self, messages: Sequence[Mapping[str, str]], timeout_s: float, answer_format: AnswerFormat
    ) -> ChatCompletion | CallFailure:
        try:
            return self._client.chat.completions.create(
                model=self.settings.model,
                messages=cast("list[ChatCompletionMessageParam]", list(messages)),
                response_format=response_format_param(answer_format),
                max_tokens=self.settings.max_tokens or openai.omit,
                temperature=0,
                timeout=timeout_s,
            )
        except openai.APITimeoutError:
            return CallFailure(f"timed out after {timeout_s:.1f}s", retryable=True)
        except openai.APIConnectionError as exc:
            return CallFailure(f"connection error: {exc}", retryable=True)
        except openai.APIStatusError as exc:
            status = exc.response.status_code
            return CallFailure(
                f"HTTP {status}: {exc.message}",
                retryable=status in RETRYABLE_STATUS or status >= 500,
                status=status,
                wait_s=retry_after_s(exc.response.headers, self._wall_clock()),
                body=exc.response.text[:2000],
            )
        except openai.OpenAIError as exc:  # e.g. a body that is not a completion at all
            return CallFailure(f"invalid response: {type(exc).__name__}: {exc}", retryable=False)
        except ValueError as exc:  # the client decodes the body itself; it may not be JSON
            return CallFailure(f"malformed response body: {exc}", retryable=False)

    def _wait_s(self, attempt: int, failure: CallFailure) -> float:
        if failure.wait_s is not None:
            return min(failure.wait_s, self.settings.retry_after_max_s)
        ceiling = min(
            self.settings.backoff_max_s, self.settings.backoff_base_s * 2.0 ** (attempt - 1)
        )
        return ceiling * (0.5 + 0.5 * self._jitter())  # jitter spreads retries of many rollouts

    def _read(
        self, response: ChatCompletion, started: float, answer_format: AnswerFormat
    ) -> Opinion:
        usage = response.usage
        accounting: dict[str, Any] = {
            "model": response.model or self.settings.model,
            "latency_s": self._clock() - started,
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "completion_tokens": usage.completion_tokens if usage else None,
            "response_format": answer_format,
        }
        if not response.choices:
            return self._unusable("no choices in the response", accounting)
        message = response.choices[0].message
        if message.refusal:
            return self._unusable(f"refused: {message.refusal}", accounting)
        if not message.content:
            return self._unusable("empty answer", accounting)
        try:
            answer = parse_answer(message.content)
        except InvalidAnswerError as exc:
            return self._unusable(str(exc), accounting)
        confidence = "" if answer.confidence is None else f" (confidence {answer.confidence:g})"
        return Opinion(
            judge=self.name,
            action=Action(answer.action),
            reasoning=self._redact(answer.reasoning + confidence),
            **accounting,
        )

    def _unusable(self, error: str, accounting: dict[str, Any]) -> Opinion:
        error = self._redact(error)[:500]
        log.warning("LLM answer ignored: %s", error)
        return Opinion(judge=self.name, action=None, reasoning="", error=error, **accounting)

    def _failed(self, error: str, started: float) -> Opinion:
        accounting = {
            "model": self.settings.model,
            "latency_s": self._clock() - started,
            "response_format": self.answer_format(),
        }
        return self._unusable(error, accounting)

    def _secrets(self) -> tuple[str, ...]:
        return (self.settings.api_key,) if self.settings.api_key else ()

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets())
