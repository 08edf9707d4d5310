"""The `airollout` command line.

Each subcommand lives with the package it drives and registers itself here, so the CLI
stays a thin dispatcher.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from airollout import __version__

Handler = Callable[[argparse.Namespace], int]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; given the command being run, only that command's module is imported."""
    parser = argparse.ArgumentParser(
        prog="airollout",
        description="Signal-responsive progressive delivery for Kubernetes.",
    )
    parser.add_argument("--version", action="version", version=f"airollout {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _subcommands(command):
        register(commands)
    return parser


# Modules that each define `register(subparsers)`, with the commands each registers. Running
# a command imports only its module: the operator's imports (kopf, openai) take seconds, and
# `airollout watch` in a CI step should not wait for them.
# The simulator and benchmarks ship apart from the operator (tools/ in the repository).
TOOLS_PACKAGE = "airollout_tools"
TOOLS_MISSING = "needs the airollout-tools package (tools/ in the repository; make install)"

SUBCOMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "airollout_tools.bench.cli": ("bench",),
    "airollout.cli.feedback": ("feedback",),
    "airollout.cli.history": ("history",),
    "airollout.cli.rollouts": (
        "resume",
        "promote",
        "abort",
        "approve",
        "reject",
        "pause",
        "status",
        "watch",
    ),
    "airollout.cli.select": ("select",),
    "airollout.cli.promotion": ("promotion",),
    "airollout.cli.operator": ("operator",),
    "airollout_tools.sim.workload_cli": ("workload",),
}


def _subcommands(
    command: str | None = None,
) -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    chosen = [name for name, commands in SUBCOMMAND_MODULES.items() if command in commands]
    registers = []
    for name in chosen or SUBCOMMAND_MODULES:
        try:
            registers.append(importlib.import_module(name).register)
        except ModuleNotFoundError as error:
            if not name.startswith(f"{TOOLS_PACKAGE}.") or error.name != TOOLS_PACKAGE:
                raise
            if chosen:  # asked for by name: say what is missing instead of "invalid choice"
                sys.exit(f"airollout {command}: {TOOLS_MISSING}")
    return registers


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments[0] if arguments else None)
    args = parser.parse_args(arguments)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0 if args.command is None else 2
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
