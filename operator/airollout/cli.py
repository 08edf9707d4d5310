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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airollout",
        description="Signal-responsive progressive delivery for Kubernetes.",
    )
    parser.add_argument("--version", action="version", version=f"airollout {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _subcommands():
        register(commands)
    return parser


# Modules that each define `register(subparsers)`; one line per subcommand family.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "airollout.bench.cli",
    "airollout.commands.rollouts",
    "airollout.controller.app",
    "airollout.sim.workload_cli",
)


def _subcommands() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    return [importlib.import_module(name).register for name in SUBCOMMAND_MODULES]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0 if args.command is None else 2
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
