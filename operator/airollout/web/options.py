"""The endpoint's flags on `airollout operator`, and starting it from them.

Off unless `--analysis-port` is set. Without a token (`--analysis-token-file` or
$AIROLLOUT_ANALYSIS_TOKEN) it refuses to start: an open endpoint would run anyone's PromQL
and spend the LLM budget.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

from airollout.adapters.kubernetes.clients import operator_clients
from airollout.adapters.kubernetes.decision_log import DecisionLog
from airollout.adapters.metrics.registry import provider_for
from airollout.web.analyze import AnalysisService
from airollout.web.evidence import ConfigMapEvidence
from airollout.web.judges import Judges
from airollout.web.server import serve

TOKEN_ENV = "AIROLLOUT_ANALYSIS_TOKEN"


class OptionError(ValueError):
    """The endpoint was asked for but cannot start; the message says what to set."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--analysis-port",
        type=int,
        default=0,
        help="serve POST /v1/analysis for Argo Rollouts web metrics here (0: off)",
    )
    parser.add_argument("--analysis-address", default="0.0.0.0")
    parser.add_argument(
        "--analysis-token-file",
        help=f"file holding the endpoint's bearer token (default: ${TOKEN_ENV})",
    )


def read_token(token_file: str | None, environ: Mapping[str, str]) -> str:
    """The bearer token, or OptionError naming where it was looked for."""
    if token_file:
        try:
            token = Path(token_file).read_text().strip()
        except OSError as error:
            raise OptionError(f"--analysis-token-file {token_file}: {error.strerror}") from None
        if not token:
            raise OptionError(f"--analysis-token-file {token_file} is empty")
        return token
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise OptionError(
            f"--analysis-port needs a bearer token: set --analysis-token-file or ${TOKEN_ENV}"
        )
    return token


def start(args: argparse.Namespace, prometheus_url: str | None) -> ThreadingHTTPServer | None:
    """The endpoint, if `--analysis-port` asks for it; OptionError if it cannot start."""
    if not args.analysis_port:
        return None
    token = read_token(args.analysis_token_file, os.environ)
    clients = operator_clients(args.kubeconfig, args.context)
    service = AnalysisService(
        store=ConfigMapEvidence(clients.core),
        providers=lambda spec: provider_for(spec, prometheus_url),
        judges=Judges(clients.core),
        decisions=DecisionLog(clients.core),
        clock=lambda: datetime.now(UTC),
    )
    return serve(service, token, args.analysis_port, args.analysis_address)
