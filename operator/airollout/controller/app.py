"""`airollout operator`: wire the reconciler to the cluster and run it under kopf."""

from __future__ import annotations

import argparse
import logging
import os
from functools import cache
from typing import Any

import kopf
from prometheus_client import start_http_server

from airollout.api.spec import Router
from airollout.controller.decision_log import DecisionLog
from airollout.controller.events import EventRecorder
from airollout.controller.handlers import build_registry
from airollout.controller.judging import WindowJudge
from airollout.controller.kube import KubeClients, connect
from airollout.controller.observe import Observer
from airollout.controller.reconcile import Reconciler
from airollout.metrics.factory import provider_for
from airollout.traffic.router import TrafficRouter
from airollout.traffic.routers import router_for

log = logging.getLogger("airollout.controller")


def build_reconciler(clients: KubeClients, prometheus_url: str | None) -> Reconciler:
    @cache
    def routers(kind: Router) -> TrafficRouter:
        return router_for(kind, clients.api)

    events = EventRecorder(clients.core)
    return Reconciler(
        custom=clients.custom,
        judge=WindowJudge(clients.core, lambda spec: provider_for(spec, prometheus_url)),
        decisions=DecisionLog(clients.core),
        events=events,
        observer=Observer(clients.apps, routers, events),
        default_prometheus=prometheus_url,
    )


def _login(clients: KubeClients) -> kopf.ConnectionInfo:
    """kopf talks to the same cluster, with the same credentials, as our own client."""
    conf = clients.api.configuration
    token = (conf.api_key or {}).get("authorization", "")
    return kopf.ConnectionInfo(
        server=conf.host,
        ca_path=conf.ssl_ca_cert,
        insecure=not conf.verify_ssl,
        certificate_path=conf.cert_file,
        private_key_path=conf.key_file,
        token=token.removeprefix("Bearer ").strip() or None,
        scheme="Bearer" if token else None,
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # kopf reports every successful tick at INFO; its warnings and errors still show.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    clients = connect(args.kubeconfig, args.context, connections=args.workers)
    prometheus_url = args.prometheus_url or os.environ.get("PROMETHEUS_URL") or None
    reconciler = build_reconciler(clients, prometheus_url)
    registry = build_registry(reconciler, args.tick, args.workers)

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return _login(clients)

    if args.metrics_port:
        start_http_server(args.metrics_port, addr=args.metrics_address)
        log.info(
            "operator metrics on http://%s:%d/metrics", args.metrics_address, args.metrics_port
        )
    kopf.run(
        registry=registry,
        standalone=True,
        clusterwide=not args.namespace,
        namespaces=args.namespace or (),
        liveness_endpoint=args.liveness or None,
    )
    return 0


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
    parser.add_argument("--liveness", default="", help="e.g. http://0.0.0.0:8081/healthz")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.set_defaults(handler=run)
