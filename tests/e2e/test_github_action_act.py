"""The GitHub Action (action.yml) run for real by act on this host, against the local
cluster with the real operator, the simulated workload and Prometheus.

act runs the job on the host (`-P ubuntu-latest=-self-hosted`; there is no Docker here):
`actions/checkout` copies this repository into act's workspace without fetching anything,
and `uses: ./` then runs the composite action from that copy, as a workflow in this
repository would. act's configuration and caches stay in the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from localcluster.layout import bin_dir_from_env
from tests.e2e.operator_harness import REPO, create_target, rollout_manifest, status_of

pytestmark = pytest.mark.e2e

ACTION_TIMEOUT_SECONDS = 240
ACT_TIMEOUT_SECONDS = ACTION_TIMEOUT_SECONDS + 120
# pip builds the CLI and its dependencies into a fresh venv: about 4 minutes on 2 cores.
INSTALL_TIMEOUT_SECONDS = 600
# The workflow's last step prints the action's outputs on one line act shows as it is.
RESULT = re.compile(r"airollout-result phase=(\S*) decision=(\S*) rollout=(\S*)")
# act logs what a step appended to $GITHUB_STEP_SUMMARY after this mark.
SUMMARY = "⚙  Summary - "
SUMMARY_TABLE_HEADER = "| Time | Action | Slice | Weight | Reasoning |"


@dataclass(frozen=True)
class Run:
    """What act reported: its exit code, its log, and the action's outputs."""

    code: int
    log: str
    phase: str
    decision: str
    rollout: str


def workflow(action_inputs: dict[str, str]) -> str:
    """A one-job workflow: check out this repository, run the local action with
    `action_inputs`, then print its outputs whatever the action's outcome."""
    report = (
        "echo airollout-result phase=${{ steps.rollout.outputs.phase }} "
        "decision=${{ steps.rollout.outputs.decision }} "
        "rollout=${{ steps.rollout.outputs.namespace }}/${{ steps.rollout.outputs.name }}"
    )
    steps = [
        {"uses": "actions/checkout@v4"},
        {"id": "rollout", "uses": "./", "with": action_inputs},
        {"if": "always()", "run": report},
    ]
    document = {
        "name": "canary",
        "on": "push",
        "jobs": {"canary": {"runs-on": "ubuntu-latest", "steps": steps}},
    }
    return yaml.safe_dump(document, sort_keys=False)


def run_act(
    tmp_path: Path, action_inputs: dict[str, str], cli_on_path: bool = True, timeout: float = 0
) -> Run:
    """act runs `workflow(action_inputs)`; with `cli_on_path` the venv's airollout is on
    PATH (for `install: false`), without it no airollout is, so only an installed one runs."""
    act = bin_dir_from_env() / "act"
    if not act.exists():
        pytest.fail(f"no {act}: run `hack/build-tools.sh act` (make tools)", pytrace=False)
    home = tmp_path / "act-home"
    home.mkdir()
    workflow_file = tmp_path / "canary.yml"
    workflow_file.write_text(workflow(action_inputs))
    argv = [str(act), "push", "-W", str(workflow_file), "-C", str(REPO)]
    argv += ["-P", "ubuntu-latest=-self-hosted", "--action-offline-mode", "--no-cache-server"]
    argv += ["--action-cache-path", str(tmp_path / "act-cache")]
    # The host runner inherits this environment; the cluster's binaries (kubectl) are on
    # PATH already. pip keeps its usual cache, so installing does not download it all again.
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    env["PATH"] = path_with_cli(env["PATH"]) if cli_on_path else path_without_cli(env["PATH"])
    done = subprocess.run(
        argv,
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout or ACT_TIMEOUT_SECONDS,
    )
    log = done.stdout + done.stderr
    (tmp_path / "act.log").write_text(log)
    found = RESULT.search(log)
    assert found, f"the report step did not run:\n{log[-6000:]}"
    return Run(done.returncode, log, *found.groups())


def path_with_cli(path: str) -> str:
    return f"{Path(sys.executable).parent}{os.pathsep}{path}"


def path_without_cli(path: str) -> str:
    folders = [f for f in path.split(os.pathsep) if f and not (Path(f) / "airollout").exists()]
    return os.pathsep.join(folders)


def write_manifest(path: Path, manifest: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(manifest))
    return path


def test_act_runs_the_action_to_a_succeeded_rollout_with_outputs_and_summary(
    kube_api: client.ApiClient,
    namespace: str,
    operator: Any,
    workload: Any,
    cluster: Any,
    tmp_path: Path,
) -> None:
    create_target(kube_api, namespace)
    workload("steady-twins")
    manifest = write_manifest(tmp_path / "rollout.yaml", rollout_manifest("web-v2"))

    run = run_act(
        tmp_path,
        {
            "manifest": str(manifest),
            "namespace": namespace,
            "timeout": str(ACTION_TIMEOUT_SECONDS),
            "kubeconfig": str(cluster.kubeconfig),
            "install": "false",
            "python": sys.executable,
        },
    )

    assert run.code == 0, run.log[-6000:]
    assert (run.phase, run.decision, run.rollout) == ("Succeeded", "proceed", f"{namespace}/web-v2")
    assert status_of(kube_api, namespace, "web-v2")["phase"] == "Succeeded"
    assert f"{SUMMARY}### AIRollout `{namespace}/web-v2`: Succeeded" in run.log
    assert SUMMARY_TABLE_HEADER in run.log
    assert "🏁  Job succeeded" in run.log


def test_act_fails_the_step_when_the_operator_rolls_the_canary_back(
    kube_api: client.ApiClient, namespace: str, operator: Any, workload: Any, tmp_path: Path
) -> None:
    create_target(kube_api, namespace)
    workload("broken-from-first-pod")
    body = rollout_manifest("web-v2")
    body["metadata"]["namespace"] = namespace  # no namespace input: the manifest's is used
    manifest = write_manifest(tmp_path / "rollout.yaml", body)

    run = run_act(
        tmp_path,
        {
            "manifest": str(manifest),
            "timeout": str(ACTION_TIMEOUT_SECONDS),
            "install": "false",
            "python": sys.executable,
        },
    )

    assert run.code != 0, "act reports the failed job"
    assert (run.phase, run.decision, run.rollout) == (
        "RolledBack",
        "rollback",
        f"{namespace}/web-v2",
    )
    assert f"::error title=AIRollout::{namespace}/web-v2 ended RolledBack (exit 1)" in run.log
    assert "❌  Failure - Main Wait for the verdict" in run.log
    assert f"{SUMMARY}### AIRollout `{namespace}/web-v2`: RolledBack" in run.log
    assert status_of(kube_api, namespace, "web-v2")["phase"] == "RolledBack"


def test_act_fails_the_step_when_no_verdict_comes_within_the_timeout(
    kube_api: client.ApiClient, namespace: str, operator: Any, tmp_path: Path
) -> None:
    """No target Deployment: the rollout stays Pending, and the step gives up after 3 s."""
    manifest = write_manifest(tmp_path / "rollout.yaml", rollout_manifest("web-v2"))

    run = run_act(
        tmp_path,
        {
            "manifest": str(manifest),
            "namespace": namespace,
            "timeout": "3",
            "install": "false",
            "python": sys.executable,
        },
    )

    assert run.code != 0, "act reports the failed job"
    assert run.phase == "Pending"
    assert f"::error title=AIRollout::{namespace}/web-v2: no verdict within 3s" in run.log
    assert "(still Pending)" in run.log


def test_act_fails_the_step_naming_the_input_when_the_manifest_has_no_airollout(
    kube_api: client.ApiClient, namespace: str, crd_installed: Path, tmp_path: Path
) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "not-a-rollout"}}
    manifest = write_manifest(tmp_path / "rollout.yaml", config_map)

    run = run_act(
        tmp_path,
        {"manifest": str(manifest), "namespace": namespace, "install": "false"},
    )

    assert run.code != 0, "act reports the failed job"
    assert (run.phase, run.rollout) == ("", "/")
    expected = f"input manifest: expected exactly one AIRollout in {manifest}, found 0"
    assert f"::error title=AIRollout::{expected}" in run.log


@pytest.mark.timeout(INSTALL_TIMEOUT_SECONDS + 120)
def test_act_installs_the_cli_from_the_action_folder_when_asked(
    kube_api: client.ApiClient, namespace: str, operator: Any, tmp_path: Path
) -> None:
    """`install: true` (the default): no airollout on PATH, so the verdict step can only run
    the CLI that pip installed from the checked-out action. The rollout has no target and
    stays Pending, which is enough to see that CLI watch it."""
    manifest = write_manifest(tmp_path / "rollout.yaml", rollout_manifest("web-v2"))

    run = run_act(
        tmp_path,
        {"manifest": str(manifest), "namespace": namespace, "timeout": "3"},
        cli_on_path=False,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )

    assert "✅  Success - Main Install the airollout CLI" in run.log, run.log[-6000:]
    assert f"Watching AIRollout {namespace}/web-v2" in run.log
    assert run.phase == "Pending"
    assert f"::error title=AIRollout::{namespace}/web-v2: no verdict within 3s" in run.log
