"""`airollout operator`: wire the reconciler to the cluster and run it under kopf."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from functools import cache
from typing import Any, NoReturn

import kopf
from kubernetes import client
from prometheus_client import start_http_server

from airollout.adapters.kubernetes.clients import KubeClients, operator_clients
from airollout.adapters.kubernetes.decision_log import DecisionLog
from airollout.adapters.kubernetes.deployment_cache import DeploymentCache
from airollout.adapters.kubernetes.events import EventRecorder
from airollout.adapters.kubernetes.jobs import Jobs
from airollout.adapters.kubernetes.pod_cache import PodCache
from airollout.adapters.metrics.registry import provider_for
from airollout.adapters.traffic.registry import router_for
from airollout.adapters.traffic.router import TrafficRouter
from airollout.adapters.traffic.target_annotations import promoted_revision
from airollout.controller.act import Actor
from airollout.controller.decide import POD_READS, WindowJudge
from airollout.controller.decision_retention import (
    DEFAULT_RETENTION,
    RetentionSweep,
    parse_retention,
)
from airollout.controller.handlers import build_registry
from airollout.controller.health import HealthState
from airollout.controller.health import serve as serve_health
from airollout.controller.leader import LeaderElector, Timings, default_namespace, new_identity
from airollout.controller.reconcile import Reconciler
from airollout.controller.sense import Sensor
from airollout.core.lease import check_timings
from airollout.core.resource.spec import Router

log = logging.getLogger("airollout.controller")


def build_reconciler(
    clients: KubeClients,
    prometheus_url: str | None,
    deployments: DeploymentCache | None = None,
    pods: PodCache | None = None,
) -> Reconciler:
    """`deployments` and `pods`: where the targets, canaries and their pods are read from
    (watches), not GETs and LISTs."""

    @cache
    def routers(kind: Router) -> TrafficRouter:
        return router_for(kind, clients.api, deployments)

    jobs = Jobs(client.BatchV1Api(clients.api), clients.core)
    return Reconciler(
        custom=clients.custom,
        sensor=Sensor(clients.apps, routers, jobs, deployments),
        judge=WindowJudge(
            clients.core,
            lambda spec: provider_for(spec, prometheus_url),
            deployments=deployments,
            pods=pods,
        ),
        actor=Actor(
            routers,
            EventRecorder(clients.core),
            DecisionLog(clients.core),
            jobs,
            base_revisions=lambda namespace, name: promoted_revision(clients.api, namespace, name),
        ),
        default_prometheus=prometheus_url,
    )


def _login(clients: KubeClients) -> kopf.ConnectionInfo:
    """kopf talks to the same cluster, with the same credentials, as our own client."""
    conf = clients.api.configuration
    # The client keeps a kubeconfig's or a ServiceAccount's token as "Bearer <token>" (or
    # "Basic ...") under BearerToken; the getter also runs the in-cluster refresh hook.
    header = conf.get_api_key_with_prefix("BearerToken") or ""
    scheme, _, token = header.strip().partition(" ")
    return kopf.ConnectionInfo(
        server=conf.host,
        ca_path=conf.ssl_ca_cert,
        insecure=not conf.verify_ssl,
        certificate_path=conf.cert_file,
        private_key_path=conf.key_file,
        token=token.strip() or None,
        scheme=scheme.capitalize() if token else None,
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # kopf reports every successful tick at INFO; its warnings and errors still show.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    timings = Timings(
        args.leader_elect_lease_duration,
        args.leader_elect_renew_deadline,
        args.leader_elect_retry_period,
    )
    try:
        check_timings(timings.lease_duration, timings.renew_deadline, timings.retry_period)
    except ValueError as error:
        print(f"airollout operator: {error}", file=sys.stderr)
        return 2
    # Each reconcile thread and each window's pod read may hold a connection at once.
    connections = args.workers + POD_READS
    clients = operator_clients(args.kubeconfig, args.context, connections=connections)
    prometheus_url = args.prometheus_url or os.environ.get("PROMETHEUS_URL") or None
    deployments, pods = DeploymentCache(clients.api), PodCache(clients.api)
    for namespace in args.namespace or ():
        deployments.watch(namespace)  # listed before the first tick asks
        pods.watch(namespace)
    reconciler = build_reconciler(clients, prometheus_url, deployments, pods)
    sweep = RetentionSweep(
        DecisionLog(clients.core), args.decision_log_retention, args.namespace or ()
    )
    registry = build_registry(reconciler, args.tick, args.workers)

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return _login(clients)

    if args.metrics_port:
        start_http_server(args.metrics_port, addr=args.metrics_address)
        log.info(
            "operator metrics on http://%s:%d/metrics", args.metrics_address, args.metrics_port
        )
    health = HealthState(stall_seconds=10.0, stale_seconds=timings.lease_duration)
    health.electing = args.leader_elect
    if args.health_port:
        serve_health(health, args.health_port, args.health_address)
    kopf_options: dict[str, Any] = {
        "registry": registry,
        "standalone": True,  # one operator reconciles: the Lease decides which, not peering
        "clusterwide": not args.namespace,
        "namespaces": args.namespace or (),
        "liveness_endpoint": args.liveness or None,
    }
    elector = None
    if args.leader_elect:
        namespace = args.leader_elect_namespace or default_namespace()
        elector = LeaderElector(
            client.CoordinationV1Api(clients.api),
            namespace,
            args.leader_elect_id,
            new_identity(),
            timings,
            health,
        )
    return asyncio.run(_operate(kopf_options, health, elector, leading=sweep.start))


async def _operate(
    kopf_options: dict[str, Any],
    health: HealthState,
    elector: LeaderElector | None,
    leading: Callable[[], object] = lambda: None,
) -> int:
    """Run kopf, under the Lease when there is an elector. `leading` starts what only the
    leader may do besides reconciling (the decision log's retention sweep)."""
    beating = asyncio.create_task(_heartbeat(health))
    if elector is None:
        leading()
        await _run_kopf(kopf_options, health)
        beating.cancel()
        return 0
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)  # kopf replaces these once it runs
    if not await elector.acquire(stopping):
        beating.cancel()
        return 0  # stopped while standing by: nothing to release
    holding = asyncio.create_task(elector.hold())
    leading()
    # A signal between winning the Lease and kopf taking the handlers over still stops it.
    operating = asyncio.create_task(_run_kopf(kopf_options, health, stop_flag=stopping))
    await asyncio.wait({holding, operating}, return_when=asyncio.FIRST_COMPLETED)
    if holding.done():
        # As controller-runtime does: stop at once, reconciling nothing more, and let the
        # Deployment restart the process as a standby. kopf's shutdown could take seconds.
        _exit_now(1)
    holding.cancel()
    failure = operating.exception()
    if failure is not None:
        log.error("kopf stopped: %r", failure)
    await asyncio.to_thread(elector.release)
    # kopf may leave a slow reconcile running in its thread; once a standby may lead, it
    # must write nothing more. Leave as a SIGKILL would, which every reconcile survives.
    _exit_now(0 if failure is None else 1)


def _exit_now(code: int) -> NoReturn:
    logging.shutdown()
    os._exit(code)


async def _run_kopf(
    kopf_options: dict[str, Any], health: HealthState, stop_flag: asyncio.Event | None = None
) -> None:
    ready = asyncio.Event()

    async def note_ready() -> None:
        await ready.wait()
        health.watching = True

    noting = asyncio.create_task(note_ready())
    try:
        await kopf.operator(ready_flag=ready, stop_flag=stop_flag, **kopf_options)
    finally:
        noting.cancel()
        health.watching = False


async def _heartbeat(health: HealthState) -> None:
    while True:
        health.beat = time.monotonic()
        await asyncio.sleep(1.0)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "operator", help="run the AIRollout operator (kopf) against the current cluster"
    )
    parser.add_argument(
        "--kubeconfig", help="kubeconfig file (default: in-cluster, then $KUBECONFIG)"
    )
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument(
        "-n", "--namespace", action="append", help="watch only this namespace (repeatable)"
    )
    parser.add_argument(
        "--prometheus-url", help="Prometheus for rollouts that name none (default: $PROMETHEUS_URL)"
    )
    parser.add_argument(
        "--tick", type=float, default=1.0, help="seconds between reconciles of a rollout"
    )
    parser.add_argument(
        "--workers", type=int, default=64, help="reconciles that may wait on the API at once"
    )
    parser.add_argument("--metrics-port", type=int, default=8080, help="0 turns /metrics off")
    parser.add_argument("--metrics-address", default="0.0.0.0")
    parser.add_argument(
        "--liveness", default="", help="kopf's own liveness endpoint, e.g. http://0.0.0.0:8082/"
    )
    parser.add_argument(
        "--health-port", type=int, default=8081, help="/healthz and /readyz (0 turns them off)"
    )
    parser.add_argument("--health-address", default="0.0.0.0")
    _add_leader_election(parser)
    parser.add_argument(
        "--decision-log-retention",
        type=parse_retention,
        default=DEFAULT_RETENTION,
        help="delete a rollout's decision log once its newest record is this old (30d)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.set_defaults(handler=run)


def _add_leader_election(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--leader-elect",
        action="store_true",
        help="reconcile only while holding a coordination.k8s.io Lease (run several replicas)",
    )
    parser.add_argument(
        "--leader-elect-lease-duration",
        type=float,
        default=15.0,
        help="seconds a standby waits after the last renewal before taking over (15)",
    )
    parser.add_argument(
        "--leader-elect-renew-deadline",
        type=float,
        default=10.0,
        help="seconds the leader keeps trying to renew before it stops and exits (10)",
    )
    parser.add_argument(
        "--leader-elect-retry-period",
        type=float,
        default=2.0,
        help="seconds between two attempts to take or renew the lease (2)",
    )
    parser.add_argument(
        "--leader-elect-namespace",
        help="namespace of the Lease (default: the operator's own in a pod, else default)",
    )
    parser.add_argument("--leader-elect-id", default="airollout-operator", help="name of the Lease")
