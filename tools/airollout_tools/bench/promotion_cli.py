"""`airollout bench promotion` and `airollout bench promotion-history`: the CLI's side."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from airollout_tools.bench.promotion import REFIT_EVERY, HistoryError, Report, load_history, run
from airollout_tools.bench.promotion_history import generate, write

SAMPLE_HISTORY = Path(__file__).resolve().parent / "data" / "promotion-history.jsonl"
COLUMNS = ("brier", "ece", "auto-promoted inc.", "stopped inc.", "incidents", "review", "block")


def register(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = kinds.add_parser(
        "promotion",
        help="replay an artifact history through the promotion score and the seed's rules",
        description=(
            "Replay a history (JSON lines, format v1) in time order: score each artifact "
            "before its outcome is known, then feed the outcome back."
        ),
    )
    bench.add_argument(
        "history",
        nargs="?",
        type=Path,
        default=SAMPLE_HISTORY,
        metavar="HISTORY.jsonl",
        help="the history (default: the bundled sample, 1000 artifacts of seed 7)",
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument(
        "--refit-every",
        type=int,
        default=REFIT_EVERY,
        metavar="K",
        help=f"the airollout policy refits every K artifacts (default: {REFIT_EVERY})",
    )
    bench.set_defaults(handler=run_promotion)
    history = kinds.add_parser(
        "promotion-history",
        help="write a synthetic artifact history from the documented hidden model",
    )
    history.add_argument("--artifacts", type=int, default=2000, metavar="N")
    history.add_argument("--seed", type=int, default=1, metavar="S")
    history.add_argument("--out", type=Path, required=True, metavar="FILE")
    history.set_defaults(handler=run_history)


def run_promotion(args: argparse.Namespace) -> int:
    if args.refit_every < 1:
        print("airollout bench promotion: --refit-every: must be at least 1", file=sys.stderr)
        return 2
    try:
        report = run(load_history(args.history), refit_every=args.refit_every)
    except HistoryError as error:
        print(f"airollout bench promotion: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_json()) if args.json else render_table(report))
    return 0


def run_history(args: argparse.Namespace) -> int:
    try:
        lines = generate(args.artifacts, args.seed)
    except ValueError as error:
        print(f"airollout bench promotion-history: {error}", file=sys.stderr)
        return 2
    write(lines, args.out)
    print(f"{len(lines)} artifacts (seed {args.seed}) written to {args.out}")
    return 0


def render_table(report: Report) -> str:
    rows = [
        (name, half, scores)
        for name, halves in report.halves.items()
        for half, scores in zip(("first", "second"), halves, strict=True)
    ]
    widths = [max(len(column), 7) for column in COLUMNS]
    header = f"{'policy':<14} {'half':<7} " + _row(COLUMNS, widths)
    lines = [f"promotion policies on {report.artifacts} artifacts, scored before each outcome"]
    lines += [header, "-" * len(header)]
    for name, half, s in rows:
        cells = (
            f"{s.brier:.4f}",
            f"{s.ece:.4f}",
            str(s.auto_promoted_incidents),
            str(s.stopped_incidents),
            str(s.incidents),
            f"{s.review_share:.1%}",
            f"{s.block_share:.1%}",
        )
        lines.append(f"{name:<14} {half:<7} " + _row(cells, widths))
    lines.append("targets (second half): ECE <= 0.05; fewer auto-promoted incidents than the")
    lines.append("  seed's policy at no higher review share")
    return "\n".join(lines)


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    return " ".join(f"{cell:>{width}}" for cell, width in zip(cells, widths, strict=True))
