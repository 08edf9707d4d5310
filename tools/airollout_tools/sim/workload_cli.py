"""`airollout workload`: run the simulated workload for one scenario until interrupted.

It prints `listening on http://HOST:PORT` once serving, so a parent process that asked for
port 0 can read the port it got.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from airollout_tools.sim.scenario import ScenarioError, load_scenario
from airollout_tools.sim.workload import Workload, WorkloadSettings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "workload",
        help="export a scenario's traffic as Prometheus metrics, split by real ready replicas",
        description=__doc__,
    )
    add_arguments(parser)
    parser.set_defaults(handler=run_workload)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", required=True, help="scenario file (format v1)")
    parser.add_argument("--namespace", required=True, help="namespace of the Deployments")
    parser.add_argument("--target", required=True, help="the stable Deployment's name")
    parser.add_argument(
        "--argo-rollout",
        action="store_true",
        help="--target is an Argo Rollout: shares from its ReplicaSets, and series labelled "
        "pod_template_hash",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--rps", type=float, help="requests per second (default: scenario's)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="scenario seconds per wall second, for scenarios written for longer windows",
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG)")
    parser.add_argument("--seed", type=int, help="random seed (default: scenario's)")


def run_workload(args: argparse.Namespace) -> int:
    # Imported here so `airollout --help` does not load the Kubernetes client.
    from kubernetes.config import ConfigException

    from airollout_tools.sim.cluster_shares import ClusterShares, RolloutShares

    if args.time_scale <= 0 or (args.rps is not None and args.rps < 0):
        print("workload: --time-scale must be > 0 and --rps >= 0", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario)
        shares: ClusterShares | RolloutShares
        if args.argo_rollout:
            shares = RolloutShares(args.namespace, args.target, args.kubeconfig)
        else:
            shares = ClusterShares(args.namespace, args.target, args.kubeconfig)
    except ScenarioError as error:
        print(f"workload: {error}", file=sys.stderr)
        return 2
    except ConfigException as error:
        print(f"workload: cannot use the kubeconfig: {error}", file=sys.stderr)
        return 2
    hashes = shares.hashes if isinstance(shares, RolloutShares) else None
    workload = Workload(scenario, shares, _settings(args), hash_source=hashes)
    url = workload.start(args.host, args.port)
    print(f"listening on {url}", flush=True)
    _wait_for_termination()
    workload.stop()
    return 0


def _settings(args: argparse.Namespace) -> WorkloadSettings:
    return WorkloadSettings(
        namespace=args.namespace,
        target=args.target,
        rps=args.rps,
        time_scale=args.time_scale,
        seed=args.seed,
    )


def _wait_for_termination() -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="airollout workload", description=__doc__)
    add_arguments(parser)
    return run_workload(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
