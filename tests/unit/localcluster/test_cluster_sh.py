"""hack/cluster.sh keeps stdout for `eval`: export lines or nothing, and exit codes say why."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.unit, pytest.mark.harness]

CLUSTER_SH = Path(__file__).resolve().parents[3] / "hack" / "cluster.sh"


def _run(command: str, state_dir: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIROLLOUT_CLUSTER_DIR": str(state_dir), "AIROLLOUT_BIN_DIR": str(bin_dir)}
    return subprocess.run(
        [str(CLUSTER_SH), command], capture_output=True, text=True, env=env, timeout=60
    )


def test_env_without_a_cluster_fails_with_one_line_and_prints_nothing_to_eval(
    tmp_path: Path,
) -> None:
    result = _run("env", tmp_path / "state", tmp_path / "bin")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"[cluster] error: no cluster running in {tmp_path / 'state'} "
        "(start one: hack/cluster.sh up)"
    ]


def test_down_without_a_cluster_succeeds_and_says_there_was_nothing_to_stop(
    tmp_path: Path,
) -> None:
    result = _run("down", tmp_path / "state", tmp_path / "bin")

    assert result.returncode == 0
    assert result.stdout == ""
    assert "nothing to stop" in result.stderr


def test_up_without_built_tools_fails_fast_pointing_at_make_tools(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    result = _run("up", tmp_path / "state", tmp_path / "bin")

    assert result.returncode == 1
    assert result.stdout == ""
    assert "hack/build-tools.sh (make tools)" in result.stderr
