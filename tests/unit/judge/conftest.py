"""Fixtures for the judge tests: the loopback OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_openai import FakeOpenAI, running_fake


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    yield from running_fake()
