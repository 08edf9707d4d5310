"""`airollout bench decisions`: the decision-quality benchmark on folders of scenarios."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from airollout_tools.bench.decisions import render_table, report_json, run_benchmark
from airollout_tools.bench.judges import DEFAULT_JUDGE, JudgeFactory, registry
from airollout_tools.bench.promotion_cli import register as register_promotion
from airollout_tools.bench.scale.cli import register as register_operator_scale
from airollout_tools.bench.selection.cli import register as register_selection
from airollout_tools.sim.scenario import Scenario, ScenarioError, load_folder

REPO_ROOT = Path(__file__).resolve().parents[3]
REPO_SCENARIOS = REPO_ROOT / "scenarios"  # the project's own set (scenarios/README.md)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = subparsers.add_parser("bench", help="benchmarks: decision quality of the judges")
    kinds = bench.add_subparsers(dest="bench_command", metavar="BENCHMARK", required=True)
    decisions = kinds.add_parser(
        "decisions",
        help="replay scenario files through every judge and score the verdicts",
        description="Replay every scenario (format v1) through each judge and score it.",
    )
    decisions.add_argument(
        "folders",
        nargs="*",
        type=Path,
        metavar="DIR",
        help=f"folders of *.yaml scenarios (default: {REPO_SCENARIOS})",
    )
    decisions.add_argument("--json", action="store_true", help="print one JSON object")
    decisions.add_argument("--judges", help="comma-separated judge names (default: all)")
    decisions.set_defaults(handler=run_decisions)
    register_operator_scale(kinds)
    register_promotion(kinds)
    register_selection(kinds)


def run_decisions(args: argparse.Namespace) -> int:
    try:
        scenarios = load_scenarios(args.folders or [REPO_SCENARIOS])
        judges = select_judges(args.judges)
    except (ScenarioError, ValueError) as error:
        print(f"airollout bench decisions: {error}", file=sys.stderr)
        return 2
    report = run_benchmark(scenarios, judges)
    if args.json:
        print(json.dumps(report_json(report)))
    else:
        print(render_table(report))
    return 0


def load_scenarios(folders: Sequence[Path]) -> list[Scenario]:
    """Every folder's scenarios; a name seen in an earlier folder gets its folder's prefix."""
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for folder in folders:
        if not folder.is_dir():
            raise ValueError(f"{folder}: not a folder of scenario files")
        for scenario in load_folder(folder):
            if scenario.name in seen:
                scenario = dataclasses.replace(scenario, name=f"{folder.name}/{scenario.name}")
            seen.add(scenario.name)
            scenarios.append(scenario)
    if not scenarios:
        raise ValueError(f"no *.yaml scenario files in {', '.join(map(str, folders))}")
    return scenarios


def select_judges(names: str | None) -> dict[str, JudgeFactory]:
    available = registry()
    if DEFAULT_JUDGE not in available:
        print(
            f"note: judge {DEFAULT_JUDGE!r} (airollout.core.judge.rules) is not available yet; "
            "running the baselines only",
            file=sys.stderr,
        )
    if names is None:
        return available
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in available]
    if unknown or not wanted:
        raise ValueError(
            f"unknown judge(s) {', '.join(unknown) or '(none given)'}; "
            f"available: {', '.join(available)}"
        )
    return {name: available[name] for name in wanted}
