"""Loaded into the target repository's pytest (`-p airollout_selection_plugin`) while its
suite runs under `coverage run`: one coverage context per test, named by its node id, and
each test's markers written to $AIROLLOUT_SELECTION_MARKERS.

It imports nothing from airollout, since it runs in the target repository's interpreter.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import coverage
import pytest

_markers: dict[str, list[str]] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Iterator[None]:
    # Setup and teardown belong to the test: a fixture's lines are what the test ran too.
    running = coverage.Coverage.current()
    _markers[item.nodeid] = sorted({mark.name for mark in item.iter_markers()})
    if running is not None:
        running.switch_context(item.nodeid)
    yield
    if running is not None:
        running.switch_context("")


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("AIROLLOUT_SELECTION_MARKERS")
    if target:
        with open(target, "w", encoding="utf-8") as out:
            json.dump(_markers, out)
