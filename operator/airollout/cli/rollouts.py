"""`airollout resume|promote|abort|approve|reject|pause|status|watch NAME`: people's
control of a rollout.

Requests go to the operator the way `kubectl annotate` would send them: the annotations
airollout.dev/action and airollout.dev/action-by, which the operator acts on and removes.
Pausing is `spec.paused`. Nothing here changes traffic itself.
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from airollout.adapters.kubernetes.clients import cli_client
from airollout.adapters.kubernetes.rollout_objects import (
    CommandError,
    RolloutConflictError,
    RolloutRef,
    Rollouts,
)
from airollout.cli.github import append_step_summary, watch_outputs, write_step_outputs
from airollout.cli.manifest import RolloutView, rollout_view
from airollout.cli.progress import (
    EXIT_NEEDS_PERSON,
    EXIT_TIMED_OUT,
    Progress,
    stop_code,
    waiting_lines,
)
from airollout.cli.render import render_status
from airollout.core.resource.crd import KIND
from airollout.core.resource.names import (
    ACTION_ANNOTATION,
    ACTION_BY_ANNOTATION,
    REVIEW_ACTIONS,
)
from airollout.core.resource.status import TERMINAL_PHASES, Phase

Handler = Callable[[argparse.Namespace], int]

DEFAULT_STATUS_DECISIONS = 5
PATCH_ATTEMPTS = 3  # a rollout the operator is writing may change between our read and patch

REQUESTS = {
    "resume": "continue from its hold or pause",
    "promote": "skip the remaining slices and promote the new version",
    "abort": "roll all traffic back to the stable version",
    "approve": "start traffic on a rollout awaiting review",
    "reject": "fail a rollout awaiting review, before any traffic moves",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    target = _target_arguments()
    for action, effect in REQUESTS.items():
        parser = subparsers.add_parser(
            action, parents=[target], help=f"ask the operator to {effect}"
        )
        parser.add_argument("--by", help="who asks, for the audit trail (default: $USER@host)")
        parser.set_defaults(handler=_guarded(request_action), action=action)
    pause = subparsers.add_parser(
        "pause", parents=[target], help="hold traffic where it is (sets spec.paused)"
    )
    pause.set_defaults(handler=_guarded(pause_rollout))
    status = subparsers.add_parser(
        "status", parents=[target], help="phase, traffic, conditions and the last decisions"
    )
    status.add_argument("-o", "--output", choices=("text", "json"), default="text")
    status.add_argument("--decisions", type=_count, metavar="N", help="show the newest N decisions")
    status.set_defaults(handler=_guarded(show_status))
    watch = subparsers.add_parser(
        "watch",
        parents=[target],
        help="follow a rollout until it ends: exit 0 Succeeded, 1 RolledBack/Failed, "
        "2 timeout, 3 waiting for a person (AwaitingApproval, or Blocked by its score)",
    )
    watch.add_argument("--timeout", type=float, metavar="SECONDS", help="give up after this")
    watch.add_argument(
        "--wait-for-approval",
        action="store_true",
        help="keep watching through AwaitingApproval and Blocked (someone may answer)",
    )
    watch.set_defaults(handler=_guarded(watch_rollout))


def _target_arguments() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("name", metavar="NAME", help="the AIRollout")
    common.add_argument(
        "-n", "--namespace", help="default: the kubeconfig context's namespace, else default"
    )
    common.add_argument("--kubeconfig", help="default: $KUBECONFIG or ~/.kube/config")
    common.add_argument("--context", help="kubeconfig context (default: the current one)")
    return common


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _guarded(handler: Handler) -> Handler:
    """Failures a person can fix are one line on stderr and exit 1, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except CommandError as error:
            print(f"airollout {args.command}: {error}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 130

    return run


def _open(args: argparse.Namespace) -> tuple[Rollouts, RolloutRef]:
    api, context_namespace = cli_client(args.kubeconfig, args.context)
    return Rollouts(api), RolloutRef(args.namespace or context_namespace, args.name)


def request_action(args: argparse.Namespace) -> int:
    rollouts, ref = _open(args)
    by = args.by or _requester()
    view = _patch_unless_over(rollouts, ref, lambda view: _action_patch(args.action, by, view))
    lines = [f"Asked the operator to {args.action} {KIND} {ref} (by {by}): "]
    lines[0] += f"it will {REQUESTS[args.action]}."
    if view.pending_action and view.pending_action != args.action:
        lines.append(f"This replaces the pending request to {view.pending_action}.")
    if args.action == "resume" and view.paused:
        lines.append("spec.paused was true and is now false.")
    print("\n".join(lines))
    return 0


def pause_rollout(args: argparse.Namespace) -> int:
    rollouts, ref = _open(args)
    view = _patch_unless_over(rollouts, ref, lambda view: {"spec": {"paused": True}})
    if view.paused:
        print(f"{KIND} {ref} was already paused (spec.paused is true).")
    else:
        print(f"Paused {KIND} {ref}: traffic stays at {view.status.weight}% until resumed.")
    return 0


def _patch_unless_over(
    rollouts: Rollouts, ref: RolloutRef, patch_for: Callable[[RolloutView], dict[str, Any]]
) -> RolloutView:
    """Read, refuse a finished rollout, then merge-patch on the version read, so a rollout
    that finishes in between is refused too rather than patched. Returns what was read."""
    for _ in range(PATCH_ATTEMPTS):
        manifest = rollouts.get(ref)
        view = rollout_view(manifest)
        if view.status.phase in TERMINAL_PHASES:
            raise CommandError(
                f"{KIND} {ref} already ended ({view.status.phase.value}); nothing to change"
            )
        patch = patch_for(view)
        patch.setdefault("metadata", {})["resourceVersion"] = manifest["metadata"][
            "resourceVersion"
        ]
        try:
            rollouts.merge_patch(ref, patch)
        except RolloutConflictError:
            continue
        return view
    raise CommandError(f"{KIND} {ref} kept changing while we tried to patch it; try again")


def _action_patch(action: str, by: str, view: RolloutView) -> dict[str, Any]:
    if action in REVIEW_ACTIONS and view.status.phase is not Phase.AWAITING_APPROVAL:
        raise CommandError(
            f"{KIND} {view.name} is {view.status.phase.value}, not AwaitingApproval: "
            f"nothing to {action}"
        )
    patch: dict[str, Any] = {
        "metadata": {"annotations": {ACTION_ANNOTATION: action, ACTION_BY_ANNOTATION: by}}
    }
    if action == "resume" and view.paused:
        patch["spec"] = {"paused": False}
    return patch


def _requester() -> str:
    user = os.environ.get("USER") or getpass.getuser()
    return f"{user}@{socket.gethostname()}"


def show_status(args: argparse.Namespace) -> int:
    rollouts, ref = _open(args)
    view = rollout_view(rollouts.get(ref))
    if args.output == "json":
        status = dict(view.raw_status)
        if args.decisions is not None:
            status["decisions"] = _newest(status.get("decisions") or [], args.decisions)
        print(json.dumps(status, indent=2))
    else:
        limit = DEFAULT_STATUS_DECISIONS if args.decisions is None else args.decisions
        print(render_status(view, limit))
    return 0


def _newest(records: list[Any], count: int) -> list[Any]:
    return records[-count:] if count > 0 else []


def watch_rollout(args: argparse.Namespace) -> int:
    rollouts, ref = _open(args)
    deadline = math.inf if args.timeout is None else time.monotonic() + args.timeout
    progress = Progress()
    for manifest in rollouts.follow(ref, deadline, notify=_note):
        view = rollout_view(manifest)
        if progress.last is None:
            print(f"Watching {KIND} {ref}", flush=True)
        for line in progress.update(view):
            print(line, flush=True)
        code = stop_code(view.status, args.wait_for_approval)
        if code == EXIT_NEEDS_PERSON:
            print("\n".join(waiting_lines(view)), flush=True)
            _finish(view, f"{KIND} {ref} waits for a person ({view.status.phase.value})")
            return code
        if code is not None:
            _finish(view, f"{KIND} {ref} ended {view.status.phase.value}")
            return code
    if progress.last is not None:
        _finish(progress.last, f"Timed out after {args.timeout:g}s")
    print(
        f"airollout watch: timed out after {args.timeout:g}s; {KIND} {ref} is still "
        f"{progress.phase.value if progress.phase else 'unknown'}",
        file=sys.stderr,
    )
    return EXIT_TIMED_OUT


def _finish(view: RolloutView, outcome: str) -> None:
    print(outcome, flush=True)
    write_step_outputs(os.environ, watch_outputs(view))
    append_step_summary(os.environ, view, outcome)


def _note(message: str) -> None:
    print(f"airollout watch: {message}", file=sys.stderr, flush=True)
