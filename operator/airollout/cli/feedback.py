"""`airollout feedback`: the loop that learns from finished rollouts.

feedback run     label finished rollouts, score them, propose (and with --apply apply) a
                 policy version, log runs to MLflow when --mlflow-uri is given
feedback report  the same reading, written as Markdown with PNG plots (no writes to the cluster)
feedback policy  the stored policy versions; --apply N puts version N in force
feedback history the labelled outcomes as JSON lines {service, outcome}, the input of
                 `airollout promotion score --history` (service: the target Deployment)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubernetes import client

from airollout.adapters.kubernetes.clients import cli_client
from airollout.adapters.kubernetes.rollout_objects import CommandError
from airollout.core.resource.durations import DurationError, parse_duration

# The loop's imports (MLflow, scikit-learn) wait until a command runs: `airollout --help`
# imports every command module.
if TYPE_CHECKING:
    from airollout.feedback.loop import LoopOptions

PROGRAM = "airollout feedback"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("feedback", help="label outcomes, score decisions, recalibrate")
    commands = parser.add_subparsers(dest="feedback_command", metavar="SUBCOMMAND", required=True)
    run = commands.add_parser("run", help="one pass of the loop; prints its result as JSON")
    _reading_flags(run)
    run.add_argument("--mlflow-uri", help="log every rollout and recalibration to this server")
    run.add_argument("--apply", action="store_true", help="put a proposed policy in force")
    run.add_argument(
        "--target-false-promotion-rate",
        type=_share,
        default=0.05,
        help="share of incidents the thresholds may auto-promote (default 0.05)",
    )
    run.set_defaults(handler=_guarded(_run))
    report = commands.add_parser("report", help="Markdown with PNG plots of past decisions")
    _reading_flags(report)
    report.add_argument("--out", type=Path, required=True, metavar="DIR")
    report.add_argument(
        "--github-summary", action="store_true", help="append the report to $GITHUB_STEP_SUMMARY"
    )
    report.set_defaults(handler=_guarded(_report))
    history = commands.add_parser(
        "history", help="write labelled outcomes for `promotion score --history`"
    )
    _reading_flags(history)
    history.add_argument("--out", type=Path, required=True, metavar="OUTCOMES.jsonl")
    history.set_defaults(handler=_guarded(_history))
    policy = commands.add_parser("policy", help="list policy versions, or apply one")
    _cluster_flags(policy)
    policy.add_argument("--apply", type=int, metavar="VERSION", help="put this version in force")
    policy.set_defaults(handler=_guarded(_policy))


def _cluster_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", help="default: $KUBECONFIG or ~/.kube/config")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument(
        "--policy-namespace",
        help="where the policy ConfigMaps live (default: the context's namespace)",
    )


def _reading_flags(parser: argparse.ArgumentParser) -> None:
    _cluster_flags(parser)
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "-n",
        "--namespace",
        action="append",
        help="a namespace to read, repeatable (default: the kubeconfig context's namespace)",
    )
    scope.add_argument("-A", "--all-namespaces", action="store_true")
    parser.add_argument(
        "--observation",
        type=_duration,
        default=timedelta(hours=1),
        help="how long after a rollout its outcome is watched (default 1h)",
    )
    parser.add_argument(
        "--prometheus", help="Prometheus URL (default: each rollout's spec.analysis.prometheus)"
    )


def _guarded(handler: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        from airollout.adapters.kubernetes.policy_store import PolicyStoreError
        from airollout.adapters.mlflow.tracking import MlflowError

        try:
            return int(handler(args))
        except (CommandError, PolicyStoreError, MlflowError) as error:
            print(f"{PROGRAM} {args.feedback_command}: {error}", file=sys.stderr)
            return 1
        except client.ApiException as error:
            reason = f"{error.status} {error.reason}"
            print(f"{PROGRAM} {args.feedback_command}: {reason}", file=sys.stderr)
            return 1

    return run


def loop_options(args: argparse.Namespace, context_namespace: str, **extra: Any) -> LoopOptions:
    """The loop's options from the flags; unset namespaces fall back to the context's."""
    from airollout.feedback.loop import LoopOptions

    namespaces = () if args.all_namespaces else tuple(args.namespace or [context_namespace])
    return LoopOptions(
        namespaces=namespaces,
        policy_namespace=args.policy_namespace or context_namespace,
        observation=args.observation,
        prometheus=args.prometheus,
        **extra,
    )


def _run(args: argparse.Namespace) -> int:
    from airollout.feedback.loop import run_loop

    api, context_namespace = cli_client(args.kubeconfig, args.context)
    options = loop_options(
        args,
        context_namespace,
        mlflow_uri=args.mlflow_uri,
        apply=args.apply,
        target_false_promotion_rate=args.target_false_promotion_rate,
    )
    result = run_loop(api, options, datetime.now(UTC))
    print(json.dumps(result.to_json(), sort_keys=True))
    for problem in result.problems:
        print(f"{PROGRAM} run: {problem}", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    from airollout.adapters.kubernetes.policy_store import PolicyStore
    from airollout.core.feedback.drift import events_from, findings
    from airollout.core.feedback.outcomes import LabelledRollout
    from airollout.feedback.loop import collect, label_all, plans_and_escapes
    from airollout.feedback.report import ReportInputs, write_report

    api, context_namespace = cli_client(args.kubeconfig, args.context)
    options = loop_options(args, context_namespace)
    now = datetime.now(UTC)
    tracked = collect(api, options.namespaces)
    outcomes, _, problems = label_all(tracked, options, now)
    labelled = [LabelledRollout(item.rollout, outcome) for item, outcome in outcomes]
    plans, escapes = plans_and_escapes(tracked)
    stored = PolicyStore(client.CoreV1Api(api), options.policy_namespace).read()
    inputs = ReportInputs(
        generated_at=now,
        labelled=labelled,
        plans=plans,
        escapes=escapes,
        findings=findings(events_from(labelled, escapes), now),
        policy=stored.newest,
    )
    path = write_report(inputs, args.out)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if args.github_summary and summary:
        with Path(summary).open("a", encoding="utf-8") as out:
            out.write(path.read_text(encoding="utf-8") + "\n")
    for problem in problems:
        print(f"{PROGRAM} report: {problem}", file=sys.stderr)
    print(path)
    return 0


def _history(args: argparse.Namespace) -> int:
    from airollout.feedback.history import write_history
    from airollout.feedback.loop import collect, label_all

    api, context_namespace = cli_client(args.kubeconfig, args.context)
    options = loop_options(args, context_namespace)
    tracked = collect(api, options.namespaces)
    outcomes, unlabelled, problems = label_all(tracked, options, datetime.now(UTC))
    try:
        written = write_history(args.out, outcomes)
    except OSError as error:
        raise CommandError(f"--out {args.out}: cannot be written ({error.strerror})") from None
    for problem in problems:
        print(f"{PROGRAM} history: {problem}", file=sys.stderr)
    print(f"{args.out}: {written} labelled outcomes ({len(unlabelled)} not labelled yet)")
    return 0


def _policy(args: argparse.Namespace) -> int:
    from airollout.adapters.kubernetes.policy_store import PolicyStore

    api, context_namespace = cli_client(args.kubeconfig, args.context)
    store = PolicyStore(client.CoreV1Api(api), args.policy_namespace or context_namespace)
    stored = store.read()
    if args.apply is not None:
        chosen = [policy for policy in stored.versions if policy.version == args.apply]
        if not chosen:
            known = ", ".join(str(policy.version) for policy in stored.versions) or "none"
            raise CommandError(f"--apply: no policy version {args.apply} (stored: {known})")
        store.apply(chosen[0])
        print(f"policy v{args.apply} applied")
        return 0
    for policy in stored.versions:
        mark = "*" if policy.version == stored.current else " "
        print(f"{mark} v{policy.version}  {policy.created_at.isoformat()}")
        for change in policy.changes:
            print(f"      - {change}")
    return 0


def _duration(text: str) -> timedelta:
    try:
        return timedelta(seconds=parse_duration(text))
    except DurationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {text!r}")
    return value
