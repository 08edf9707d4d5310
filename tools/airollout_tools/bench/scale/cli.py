"""`airollout bench operator`: many AIRollouts at once against the real local control plane.

For each size N: a namespace with N small target Deployments (kwok makes their pods Ready),
one static exporter in this process that serves steady, healthy request counters for every
target and canary (scraped by the harness Prometheus), the operator as a subprocess pinned to
one core, and N AIRollouts created at once. A watch records every analysis window's end as
it opens and every decision as it lands, so each decision's delay is measured exactly; the
operator's own `airollout_decision_delay_seconds` histogram (which also counts the judge's
Prometheus queries) is read at the end as a cross-check.

The figures are printed beside the target (p99 decision delay within 2 s, 200 rollouts on
one core), never asserted: a loaded machine is a reason to read them, not to fail."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path

from kubernetes.client.exceptions import ApiException

from airollout_tools.bench.scale.argo_peer import run_side_by_side
from airollout_tools.bench.scale.cluster import BenchError, run_benchmark
from airollout_tools.bench.scale.idle import register as register_idle
from airollout_tools.bench.scale.peer_report import (
    PeerReport,
    comparison_json,
    comparison_row,
    render_comparison,
    render_peer_detail,
)
from airollout_tools.bench.scale.report import (
    SliceReport,
    render_table,
    report_json,
)
from airollout_tools.bench.scale.settings import ScaleSettings
from airollout_tools.bench.scale.soak import register as register_soak


def register(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`airollout bench operator`, under the `bench` command's subparsers."""
    parser = kinds.add_parser(
        "operator",
        help="many concurrent AIRollouts on the local cluster: decision delay, CPU, RSS",
        description="Start the local cluster, then for each N run N AIRollouts at once "
        "under one operator pinned to one core; print decision delays, CPU and peak RSS.",
    )
    parser.add_argument(
        "--rollouts", type=_sizes, default=(50, 200), help="comma-separated sizes (50,200)"
    )
    parser.add_argument("--interval", default="5s", help="analysis window (5s)")
    parser.add_argument("--warmup", default="1s", help="warm-up after each traffic change (1s)")
    parser.add_argument(
        "--slices", type=_sizes, default=(10, 50, 100), help="canary weights (10,50,100)"
    )
    parser.add_argument("--tick", type=float, default=1.0, help="operator reconcile tick (1.0)")
    parser.add_argument("--core", type=int, default=0, help="core to pin the operator to (0)")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait per size for all to finish"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.add_argument(
        "--peer",
        choices=("argo",),
        help="after each size, the same rollouts driven by the real Argo Rollouts controller;"
        " prints one table with both",
    )
    parser.set_defaults(handler=run_command)
    register_idle(kinds)
    register_soak(kinds)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected positive integers")
    return sizes


def run_command(args: argparse.Namespace) -> int:
    log_dir = Path(tempfile.mkdtemp(prefix="airollout-bench-operator-logs-"))
    settings = ScaleSettings(
        sizes=args.rollouts,
        interval=args.interval,
        warmup=args.warmup,
        slices=args.slices,
        tick_seconds=args.tick,
        core=args.core,
        timeout_seconds=args.timeout,
        log_dir=log_dir,
    )
    print(f"operator logs in {log_dir}", file=sys.stderr)
    # SIGTERM unwinds like an error, so the operator and the cluster are stopped on the way.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def show(report: SliceReport) -> None:
        print(render_table(report), file=sys.stderr if args.json else sys.stdout, flush=True)

    try:
        if args.peer:
            return _side_by_side(settings, args.json)
        reports = run_benchmark(settings, show)
    except (BenchError, ApiException, OSError) as error:
        print(f"airollout bench operator: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report_json(reports, settings)))
    return 0


def _side_by_side(settings: ScaleSettings, as_json: bool) -> int:
    def show(report: SliceReport | PeerReport) -> None:
        detail = (
            render_table(report) if isinstance(report, SliceReport) else render_peer_detail(report)
        )
        print(detail, file=sys.stderr if as_json else sys.stdout, flush=True)

    ours, theirs = run_side_by_side(settings, show)
    rows = [
        row
        for mine, peer in zip(ours, theirs, strict=True)
        for row in (comparison_row("AIRollout", mine), comparison_row(peer.controller, peer))
    ]
    print(render_comparison(rows), file=sys.stderr if as_json else sys.stdout, flush=True)
    if as_json:
        print(json.dumps(comparison_json(ours, theirs, settings)))
    return 0
