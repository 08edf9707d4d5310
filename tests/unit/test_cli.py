"""The console script is installed and answers the basics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import airollout
from airollout.cli.main import main

pytestmark = pytest.mark.unit

SCRIPT = Path(sys.executable).parent / "airollout"


def test_version_flag_prints_the_package_version() -> None:
    result = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"airollout {airollout.__version__}"
    assert airollout.__version__ != "0.0.0+unknown"


def test_help_lists_usage() -> None:
    result = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("usage: airollout")


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_each_command_module_registers_exactly_the_commands_the_cli_table_lists() -> None:
    import argparse
    import importlib

    from airollout.cli.main import SUBCOMMAND_MODULES

    for module, listed in SUBCOMMAND_MODULES.items():
        parser = argparse.ArgumentParser()
        commands = parser.add_subparsers(dest="command")
        importlib.import_module(module).register(commands)
        assert tuple(commands.choices) == listed, module


def test_running_a_command_imports_only_its_own_module() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, airollout.cli.main as cli; cli.build_parser('watch'); "
        "print('airollout.controller.app' in sys.modules, 'kopf' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
