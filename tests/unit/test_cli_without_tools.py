"""The operator's wheel ships without the tools: their commands then say what is missing."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from airollout.cli.main import TOOLS_PACKAGE, main

pytestmark = pytest.mark.unit


@pytest.fixture
def tools_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a machine with only the operator's wheel: the package is on no import path.
    for name in [m for m in sys.modules if m == TOOLS_PACKAGE or m.startswith(f"{TOOLS_PACKAGE}.")]:
        monkeypatch.delitem(sys.modules, name)
    kept = [entry for entry in sys.path if not (Path(entry) / TOOLS_PACKAGE).is_dir()]
    monkeypatch.setattr(sys, "path", kept)
    importlib.invalidate_caches()


@pytest.mark.usefixtures("tools_not_installed")
@pytest.mark.parametrize("command", ["bench", "workload"])
def test_a_tools_command_names_the_missing_package(command: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert f"airollout {command}: needs the airollout-tools package" in str(exit_info.value.code)


@pytest.mark.usefixtures("tools_not_installed")
def test_help_without_the_tools_lists_the_operator_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 0
    listed = capsys.readouterr().out
    assert "operator" in listed
    assert "history" in listed
    assert "bench" not in listed
