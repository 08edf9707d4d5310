"""Prometheus configuration for the local cluster, and its file-based scrape targets.

The config scrapes every second and reads targets from JSON files in one directory, so a
test (or later the simulated workload) adds a target by writing a file, with no reload.
"""

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SCRAPE_INTERVAL = "1s"
TARGETS_REFRESH = "1s"


def prometheus_config(self_address: str, targets_dir: Path) -> dict[str, Any]:
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "scrape_timeout": SCRAPE_INTERVAL,
            "evaluation_interval": SCRAPE_INTERVAL,
        },
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": [self_address]}]},
            {
                # Each file may set its own `job` label, which takes precedence over this name.
                "job_name": "file-targets",
                "file_sd_configs": [
                    {"files": [str(targets_dir / "*.json")], "refresh_interval": TARGETS_REFRESH}
                ],
            },
        ],
    }


def write_config(path: Path, self_address: str, targets_dir: Path) -> None:
    # JSON is valid YAML, and json.dumps quotes every path and label correctly.
    path.write_text(json.dumps(prometheus_config(self_address, targets_dir), indent=2) + "\n")


def write_scrape_target(
    targets_dir: Path, job: str, addresses: Sequence[str], labels: Mapping[str, str] = {}
) -> Path:
    """Make Prometheus scrape `addresses` (host:port, path /metrics) under job `job`.

    Written to a temporary name and renamed, so Prometheus never reads half a file.
    """
    target = targets_dir / f"{job}.json"
    partial = targets_dir / f".{job}.json.tmp"
    group = {"targets": list(addresses), "labels": {**labels, "job": job}}
    partial.write_text(json.dumps([group]) + "\n")
    os.replace(partial, target)
    return target


def remove_scrape_target(targets_dir: Path, job: str) -> None:
    (targets_dir / f"{job}.json").unlink(missing_ok=True)
