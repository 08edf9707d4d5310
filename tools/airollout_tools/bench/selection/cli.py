"""`airollout bench selection`: the planner against baselines on real commits with real faults."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from airollout.core.selection.index import SelectionInputError
from airollout_tools.bench.selection.report import render_table, report_json
from airollout_tools.bench.selection.run import Settings, run_bench
from airollout_tools.bench.selection.subject import Subject

REPO_ROOT = Path(__file__).resolve().parents[4]
# The subset measured for `make bench`: the pure core's fastest unit tests, and the code
# they test (judge and rollout add minutes of property tests under coverage per commit).
AREAS = ("selection", "analysis")
DEFAULT_TESTS = tuple(f"tests/unit/{area}" for area in AREAS)
DEFAULT_SOURCES = tuple(f"operator/airollout/core/{area}" for area in AREAS)


def register(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = kinds.add_parser(
        "selection",
        help="test selection on real commits with injected faults, beside baselines",
        description="Build the index at an older revision, mutate lines later commits "
        "changed, and measure which strategies select the tests that catch each fault.",
    )
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="default: this repository")
    parser.add_argument("--python", help="the repository's interpreter (default .venv/bin/python)")
    parser.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS), metavar="PATH")
    parser.add_argument(
        "--sources",
        nargs="+",
        default=list(DEFAULT_SOURCES),
        metavar="PATH",
        help="the tested package: commits changing no Python here are skipped",
    )
    parser.add_argument("--commits", type=_positive, default=6, metavar="N")
    parser.add_argument("--index-at", default="HEAD~40", metavar="REV")
    parser.add_argument("--mutants-per-commit", type=_positive, default=3, metavar="K")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_selection)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def run_selection(args: argparse.Namespace) -> int:
    repo = args.repo.resolve()
    if not (repo / ".git").exists():
        print(f"airollout bench selection: --repo {repo}: not a git repository", file=sys.stderr)
        return 2
    python = args.python or _own_interpreter(repo)
    if "/" in python:  # the tests run in a worktree elsewhere: a relative path would break
        python = str(Path(python).absolute())
    settings = Settings(
        repo=repo,
        subject=Subject(python, tuple(args.tests)),
        sources=tuple(args.sources),
        index_at=args.index_at,
        commits=args.commits,
        mutants_per_commit=args.mutants_per_commit,
        seed=args.seed,
    )
    try:
        result = run_bench(settings)
    except SelectionInputError as error:
        print(f"airollout bench selection: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report_json(result)) if args.json else render_table(result))
    return 0


def _own_interpreter(repo: Path) -> str:
    own = repo / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable
