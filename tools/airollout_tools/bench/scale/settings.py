"""What one run of the operator-scale benchmark uses, and the targets it prints beside."""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import config as _config

REPO_ROOT = Path(__file__).resolve().parents[4]
CRD_FILE = REPO_ROOT / "crds" / "airollout.dev_airollouts.yaml"
IMAGE, NEW_IMAGE = "registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10-v2"
TARGET_P99_S = 2.0
TARGET_ROLLOUTS = 200
# The operator's own histograms the report reads, with what each row is called.
OPERATOR_HISTOGRAMS = {
    "airollout_decision_delay_seconds": "decision delay (operator's histogram)",
    "airollout_decision_written_seconds": "verdict's status written (operator's)",
    "airollout_reconcile_seconds": "one reconcile (operator's histogram)",
    "airollout_prometheus_query_seconds": "one Prometheus query (operator's)",
}
config: Any = _config  # untyped package: one Any rather than an ignore per call
TARGET_REPLICAS = 2
# Stable, canary and a surge pod during promotion, per replica of the targets; each kwok
# node of the harness takes 110 pods.
PODS_PER_ROLLOUT, PODS_PER_NODE = 3 * TARGET_REPLICAS, 110
FINISHED_PHASES = frozenset({"Succeeded", "RolledBack", "Failed"})
# Cumulative share of requests at or below each latency edge (seconds): p99 near 0.1 s,
# far inside the rollouts' 0.5 s bound, identical for stable and canary.
LATENCY_SHARES = ((0.025, 0.30), (0.05, 0.90), (0.1, 0.99), (0.25, 1.0), (math.inf, 1.0))


@dataclass(frozen=True)
class ScaleSettings:
    sizes: tuple[int, ...] = (50, 200)
    interval: str = "5s"
    warmup: str = "1s"
    slices: tuple[int, ...] = (10, 50, 100)
    tick_seconds: float = 1.0
    core: int = 0
    timeout_seconds: float = 600.0
    rps: float = 200.0  # per version and target
    error_ratio: float = 0.001
    log_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
