"""The decision core runs compiled (hack/compile.sh) and decides exactly as its sources do."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

import pytest

from tests.support.compiled_core import REPO_ROOT, compiled_sources, is_extension, module_name

pytestmark = pytest.mark.unit

SCENARIOS = REPO_ROOT / "scenarios"
REPLAY = "tests.support.replay_decisions"


def _replay(*flags: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", REPLAY, str(SCENARIOS), *flags],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    replayed: dict[str, Any] = json.loads(done.stdout)
    return replayed


def test_every_listed_module_is_imported_from_its_compiled_extension() -> None:
    sources = compiled_sources()
    assert "operator/airollout/core/judge/rules.py" in sources
    interpreted = [
        name
        for name in map(module_name, sources)
        if not is_extension(importlib.import_module(name).__file__)
    ]
    assert interpreted == [], f"not compiled (run `make compile`): {interpreted}"


def test_the_compiled_core_decides_exactly_as_its_sources_do() -> None:
    compiled, interpreted = _replay(), _replay("--sources")
    assert all(map(is_extension, compiled["loaded"].values())), compiled["loaded"]
    assert not any(map(is_extension, interpreted["loaded"].values())), interpreted["loaded"]
    assert compiled["runs"].keys() == interpreted["runs"].keys()
    assert all(compiled["runs"].values()), "a scenario run without a single decision"
    for run, decisions in compiled["runs"].items():
        # Every verdict, reasoning, statistic and saved evidence state, float for float.
        assert decisions == interpreted["runs"][run], run
