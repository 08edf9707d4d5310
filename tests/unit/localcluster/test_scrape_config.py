"""Prometheus config: scrapes every second and picks up targets tests write."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest
import yaml

from localcluster.prometheus import (
    prometheus_config,
    remove_scrape_target,
    write_config,
    write_scrape_target,
)

pytestmark = [pytest.mark.unit, pytest.mark.harness]


def _file_sd_globs(config: dict[str, object]) -> list[str]:
    return [
        pattern
        for job in config["scrape_configs"]  # type: ignore[attr-defined]
        for sd in job.get("file_sd_configs", [])
        for pattern in sd["files"]
    ]


def test_config_written_to_disk_is_yaml_scraping_every_second(tmp_path: Path) -> None:
    config_file = tmp_path / "prometheus.yml"
    write_config(config_file, "127.0.0.1:9999", tmp_path / "targets")

    config = yaml.safe_load(config_file.read_text())

    assert config["global"]["scrape_interval"] == "1s"
    assert config == prometheus_config("127.0.0.1:9999", tmp_path / "targets")


def test_written_target_is_matched_by_the_file_sd_glob_and_names_its_job(tmp_path: Path) -> None:
    targets = tmp_path / "targets"
    targets.mkdir()
    written = write_scrape_target(targets, "workload", ["127.0.0.1:8080"], {"version": "canary"})

    globs = _file_sd_globs(prometheus_config("127.0.0.1:9999", targets))
    assert any(fnmatch.fnmatch(str(written), pattern) for pattern in globs)
    groups = json.loads(written.read_text())
    assert groups == [
        {"targets": ["127.0.0.1:8080"], "labels": {"version": "canary", "job": "workload"}}
    ]
    assert not any(
        fnmatch.fnmatch(str(p), g) for p in targets.iterdir() if p != written for g in globs
    )


def test_removed_target_leaves_no_file(tmp_path: Path) -> None:
    write_scrape_target(tmp_path, "gone", ["127.0.0.1:1"])
    remove_scrape_target(tmp_path, "gone")
    remove_scrape_target(tmp_path, "gone")
    assert list(tmp_path.iterdir()) == []
