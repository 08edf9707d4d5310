"""`airollout select`: choose the tests a change needs, from a change-impact index.

select index      run the suite once under coverage and write the index
select plan       the plan for base..head: tests, suites, risk tier, shards, reasoning
select record     learn from JUnit results: co-failures with changed files, flaky tests
select run-shard  run one shard of a plan and report passed/failed/skipped counts
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airollout.adapters.llm.openai_judge import LLMSettings, api_key_from_env
from airollout.adapters.selection.advisor_client import ask_advisor
from airollout.adapters.selection.build import build_index
from airollout.adapters.selection.git import change_for_index, changed_files, resolve
from airollout.adapters.selection.head_graph import head_graph_source
from airollout.adapters.selection.junit import node_id_of, node_ids_by_key, read_results
from airollout.adapters.selection.shard import run_shard
from airollout.adapters.selection.store import load_index, load_rules, save_index
from airollout.cli.github import write_step_outputs
from airollout.core.selection.advisor import (
    Advice,
    AdviceError,
    advisor_messages,
    merge,
    read_advice,
    unused,
)
from airollout.core.selection.diff import FileChange
from airollout.core.selection.history import record_results
from airollout.core.selection.index import Index, SelectionInputError
from airollout.core.selection.plan import Plan, Sizing, make_plan

SUMMARY_TESTS = 20
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
TERMINATION_MESSAGE_BYTES = 4096  # what Kubernetes keeps of /dev/termination-log


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("select", help="choose the tests a change needs, and shard them")
    commands = parser.add_subparsers(dest="select_command", metavar="SUBCOMMAND", required=True)
    index = commands.add_parser("index", help="run the suite once under coverage; write the index")
    index.add_argument("--repo", type=Path, default=Path("."), help="the repository (default .)")
    index.add_argument("--python", default=sys.executable, help="the repository's interpreter")
    index.add_argument("--tests", nargs="+", required=True, metavar="PATH", help="pytest paths")
    index.add_argument("--out", type=Path, required=True, metavar="INDEX", help="the index file")
    index.set_defaults(handler=_guarded(_index))
    plan = commands.add_parser("plan", help="the plan for the change base..head")
    plan.add_argument("--repo", type=Path, default=Path("."), help="the repository (default .)")
    plan.add_argument("--base", required=True, metavar="REV")
    plan.add_argument("--head", default="HEAD", metavar="REV")
    plan.add_argument("--index", type=Path, required=True, metavar="INDEX")
    plan.add_argument("--target-seconds", type=_positive(float), default=Sizing.target_seconds)
    plan.add_argument("--max-parallel", type=_positive(int), default=Sizing.max_parallel)
    _advisor_flags(plan)
    form = plan.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the plan as JSON")
    form.add_argument("--github", action="store_true", help="also write GitHub step outputs")
    plan.set_defaults(handler=_guarded(_plan))
    record = commands.add_parser("record", help="learn from the JUnit results of a run")
    record.add_argument("junit", nargs="+", type=Path, metavar="JUNIT")
    record.add_argument("--index", type=Path, required=True, metavar="INDEX")
    record.add_argument("--revision", required=True, metavar="REV", help="the revision tested")
    record.add_argument("--repo", type=Path, default=Path("."), help="the repository (default .)")
    record.add_argument("--base", metavar="REV", help="what REV changed from (default REV~1)")
    record.set_defaults(handler=_guarded(_record))
    shard = commands.add_parser("run-shard", help="run one shard of a plan with pytest")
    shard.add_argument("--plan", type=Path, required=True, metavar="PLAN", help="plan JSON file")
    shard.add_argument("--index", type=int, metavar="N", help="default $JOB_COMPLETION_INDEX")
    shard.add_argument("--repo", type=Path, default=Path("."), help="the repository (default .)")
    shard.add_argument("--python", default=sys.executable, help="the repository's interpreter")
    shard.set_defaults(handler=_guarded(_run_shard))


def _advisor_flags(plan: argparse.ArgumentParser) -> None:
    advisor = plan.add_argument_group(
        "LLM advisor", "an OpenAI-compatible model that may add tests or raise the risk tier"
    )
    advisor.add_argument("--llm-endpoint", metavar="URL", help="base URL, e.g. http://h/v1")
    advisor.add_argument("--llm-model", metavar="M", help="the model name (with --llm-endpoint)")
    advisor.add_argument(
        "--llm-api-key-env",
        metavar="VAR",
        default=DEFAULT_API_KEY_ENV,
        help=f"environment variable holding the API key (default {DEFAULT_API_KEY_ENV})",
    )
    advisor.add_argument(
        "--llm-timeout",
        type=_positive(float),
        default=30.0,
        metavar="S",
        help="seconds for the whole answer; later, the index's plan stands (default 30)",
    )


def _guarded(handler: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(handler(args))
        except SelectionInputError as error:
            print(f"airollout select {args.select_command}: {error}", file=sys.stderr)
            return 2

    return run


def _positive(kind: type[float] | type[int]) -> Any:
    def parse(text: str) -> float | int:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
        return value

    return parse


def _index(args: argparse.Namespace) -> int:
    if not (args.repo / ".git").exists():
        raise SelectionInputError(f"--repo {args.repo}: not a git repository")
    previous = load_index(args.out) if args.out.exists() else None
    index = build_index(args.repo, args.python, args.tests, previous)
    save_index(index, args.out)
    print(f"{args.out}: {len(index.tests)} tests at {index.revision[:12]}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    index = load_index(args.index)
    base = resolve(args.repo, args.base, "--base")
    head = resolve(args.repo, args.head, "--head")
    change = change_for_index(args.repo, base, head, index.revision)
    rules = load_rules(args.repo, head)
    sizing = Sizing(args.target_seconds, args.max_parallel)
    graph = head_graph_source(args.repo, head, rules)
    plan = make_plan(index, change.changes, rules, change.commits_behind, sizing, graph)
    advice = None
    if args.llm_endpoint or args.llm_model:
        plan, advice = _advised(args, plan, index, change.changes, sizing)
    if args.github:
        write_github(os.environ, plan, advice)
    report = plan_json(plan, advice)
    print(fitted(report, indent=2) if args.json else _text(plan))
    return 0


def _advised(
    args: argparse.Namespace,
    plan: Plan,
    index: Index,
    changes: list[FileChange],
    sizing: Sizing,
) -> tuple[Plan, Advice]:
    if not (args.llm_endpoint and args.llm_model):
        raise SelectionInputError("--llm-endpoint and --llm-model: give both, or neither")
    settings = LLMSettings(
        model=args.llm_model,
        base_url=args.llm_endpoint,
        api_key=api_key_from_env(args.llm_api_key_env),
        timeout_s=args.llm_timeout,
    )
    reply = ask_advisor(settings, advisor_messages(plan, changes, index))
    if reply.content is None:
        return unused(plan, reply.error)
    try:
        answer = read_advice(reply.content)
    except AdviceError as error:
        return unused(plan, str(error))
    return merge(plan, answer, index, changes, sizing)


def plan_json(plan: Plan, advice: Advice | None) -> dict[str, Any]:
    """The plan's contract keys, and `advisor` when one was asked."""
    report = plan.to_json()
    if advice is not None:
        report["advisor"] = advice.to_json()
    return report


def fitted(report: dict[str, Any], **layout: Any) -> str:
    """The plan as JSON within a termination message (the selection Job's report). Only
    `changed_paths` gives way, from its end: the Jobs after it need every other key."""
    text = json.dumps(report, **layout)
    paths = list(report.get("changed_paths") or ())
    while len(text.encode()) > TERMINATION_MESSAGE_BYTES and paths:
        paths.pop()
        trimmed = {**report, "changed_paths": paths} if paths else _without_paths(report)
        text = json.dumps(trimmed, **layout)
    return text


def _without_paths(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key != "changed_paths"}


def write_github(env: Mapping[str, str], plan: Plan, advice: Advice | None = None) -> None:
    """`test_plan` (compact JSON), `risk_tier`, and `matrix` for `strategy.matrix`."""
    matrix = {"shard": list(range(len(plan.shards)))}
    write_step_outputs(
        env,
        {
            "test_plan": fitted(plan_json(plan, advice), separators=(",", ":")),
            "risk_tier": plan.risk_tier,
            "matrix": json.dumps(matrix, separators=(",", ":")),
        },
    )
    target = env.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(summary_markdown(plan))


def summary_markdown(plan: Plan) -> str:
    scope = "the full suite" if plan.full_suite else f"{len(plan.tests)} tests"
    lines = [
        f"### Test selection: {scope}, risk {plan.risk_tier}",
        "",
        f"About {plan.estimated_seconds:.0f}s of tests in {len(plan.shards)} shards.",
        "",
        f"> {plan.reasoning.replace(chr(10), ' ')}",
    ]
    if plan.tests and not plan.full_suite:
        lines += ["", *(f"- `{test}`" for test in plan.tests[:SUMMARY_TESTS])]
        if len(plan.tests) > SUMMARY_TESTS:
            lines.append(f"- … and {len(plan.tests) - SUMMARY_TESTS} more")
    return "\n".join(lines) + "\n\n"


def _text(plan: Plan) -> str:
    scope = "full suite" if plan.full_suite else f"{len(plan.tests)} tests"
    lines = [
        f"{scope}, risk {plan.risk_tier}, about {plan.estimated_seconds:.1f}s "
        f"in {len(plan.shards)} shards",
        *(f"  {test}" for test in plan.tests),
        f"why: {plan.reasoning}",
    ]
    return "\n".join(lines)


def _record(args: argparse.Namespace) -> int:
    index = load_index(args.index)
    revision = resolve(args.repo, args.revision, "--revision")
    base = resolve(args.repo, args.base or f"{revision}~1", "--base")
    keys = node_ids_by_key(index.tests)
    results = [
        (node_id_of(case, keys), case.outcome) for path in args.junit for case in read_results(path)
    ]
    learned = record_results(index, results, revision, changed_files(args.repo, base, revision))
    save_index(learned, args.index)
    failed = sum(outcome in ("failed", "error") for _, outcome in results)
    print(f"{args.index}: learned {len(results)} results ({failed} failed) at {revision[:12]}")
    return 0


def _run_shard(args: argparse.Namespace) -> int:
    number = args.index if args.index is not None else _completion_index()
    plan = _read_plan(args.plan)
    shards = plan["shards"]
    if not 0 <= number < max(len(shards), 1):
        raise SelectionInputError(f"--index {number}: the plan has {len(shards)} shards")
    node_ids = shards[number] if shards else []
    result = run_shard(args.repo.resolve(), args.python, number, node_ids)
    print(json.dumps(result.to_json(), separators=(",", ":")))
    return 1 if result.failed else 0


def _completion_index() -> int:
    text = os.environ.get("JOB_COMPLETION_INDEX")
    if text is None:
        raise SelectionInputError("--index: not given and $JOB_COMPLETION_INDEX is not set")
    if not text.isdigit():
        raise SelectionInputError(f"$JOB_COMPLETION_INDEX: {text!r} is not a shard number")
    return int(text)


def _read_plan(path: Path) -> dict[str, Any]:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SelectionInputError(f"--plan {path}: not a readable JSON plan ({error})") from error
    shards = plan.get("shards") if isinstance(plan, dict) else None
    if not isinstance(shards, list) or not all(
        isinstance(shard, list) and all(isinstance(t, str) for t in shard) for shard in shards
    ):
        raise SelectionInputError(f"--plan {path}: 'shards' must be a list of lists of node ids")
    return dict(plan)
