"""`airollout history NAME`: every decision of every AIRollout of that name, oldest first.

It reads the decision log, not the AIRollout, so rollouts deleted (and applied again under
the same name) still show, each under its own UID.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import urllib3
from kubernetes import client

from airollout.adapters.kubernetes.clients import cli_client
from airollout.adapters.kubernetes.decision_log import DecisionLog
from airollout.adapters.kubernetes.rollout_objects import CommandError, api_error_line
from airollout.core.decision_log_layout import LoggedRecord

SUMMARY_WIDTH = 72
UID_SHOWN = 8


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "history",
        help="every decision of the rollouts of this name, deleted ones too, oldest first",
    )
    parser.add_argument("name", metavar="NAME", help="the AIRollout's name")
    parser.add_argument(
        "-n", "--namespace", help="default: the kubeconfig context's namespace, else default"
    )
    parser.add_argument("--kubeconfig", help="default: $KUBECONFIG or ~/.kube/config")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--json", action="store_true", help="print a JSON list of the records")
    parser.set_defaults(handler=show_history)


def show_history(args: argparse.Namespace) -> int:
    try:
        api, context_namespace = cli_client(args.kubeconfig, args.context)
        namespace = args.namespace or context_namespace
        records = _read(api, namespace, args.name)
    except CommandError as error:
        print(f"airollout history: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([entry.to_json() for entry in records], indent=2))
    elif not records:
        print(f"No decisions recorded for {namespace}/{args.name}.")
    else:
        print(render_history(records))
    return 0


def _read(api: client.ApiClient, namespace: str, name: str) -> list[LoggedRecord]:
    try:
        return DecisionLog(client.CoreV1Api(api)).history(namespace, name)
    except client.ApiException as error:
        raise CommandError(api_error_line(error)) from error
    except urllib3.exceptions.HTTPError as error:
        host = api.configuration.host
        raise CommandError(f"cannot reach the cluster at {host}: {error}") from error


def render_history(records: Sequence[LoggedRecord]) -> str:
    rows = [("TIME", "UID", "WINDOW", "ACTION", "SUMMARY")]
    rows += [
        (
            str(entry.record.get("time", "")),
            entry.uid[:UID_SHOWN] or "-",
            entry.key,
            entry.action,
            summary_of(entry),
        )
        for entry in records
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[4]]
        ).rstrip()
        for row in rows
    )


def summary_of(entry: LoggedRecord) -> str:
    """The record's own one-line summary, else the first line of its reasoning."""
    text = str(entry.record.get("summary") or "").strip()
    if not text:
        reasoning = str(entry.record.get("reasoning") or "").strip()
        text = reasoning.splitlines()[0] if reasoning else ""
    return text if len(text) <= SUMMARY_WIDTH else text[: SUMMARY_WIDTH - 1] + "…"
