"""`airollout operator`: the controller, and beside it the analysis endpoint (web/).

The two are independent layers, so this is where they meet: the controller's command gets
the endpoint's flags, and the endpoint starts before the controller takes the process.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from airollout.adapters.kubernetes.clients import operator_clients
from airollout.controller import app
from airollout.controller.decision_retention import RetentionSweep
from airollout.web import options
from airollout.web.evidence import ConfigMapEvidence


def register(commands: Any) -> None:
    app.register(commands)
    parser = commands.choices["operator"]
    options.add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    prometheus_url = args.prometheus_url or os.environ.get("PROMETHEUS_URL") or None
    try:
        endpoint = options.start(args, prometheus_url)
    except (options.OptionError, OSError) as error:
        print(f"airollout operator: {error}", file=sys.stderr)
        return 2
    if endpoint is not None:
        # Argo asks no more once a Rollout has moved on, so its evidence would stay forever:
        # it goes with the decision log's retention. Deleting twice is harmless, so every
        # replica sweeps, not only the leader.
        evidence = ConfigMapEvidence(operator_clients(args.kubeconfig, args.context).core)
        RetentionSweep(evidence, args.decision_log_retention, args.namespace or ()).start()
    return app.run(args)
