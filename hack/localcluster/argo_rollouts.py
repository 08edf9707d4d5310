"""The real Argo Rollouts controller beside a running cluster.

hack/build-tools.sh builds the controller from its Go module and caches its five CRDs beside
the binary. `start` applies the CRDs server-side, runs the controller with the cluster's
kubeconfig, without leader election, its metrics and healthz servers on free loopback ports
(the build binds them to 127.0.0.1 rather than every interface), and returns once its
informers have synced and its workers run. Standard library only, like the rest of the harness.
"""

import dataclasses
import subprocess
import time
from pathlib import Path

from localcluster import http, processes
from localcluster.layout import Layout
from localcluster.ports import free_loopback_ports

BINARY = "argo-rollouts"
CRD_DIR = "argo-rollouts-crds"
# Each CRD's name and upstream's file for it, as hack/build-tools.sh caches them.
CRD_FILES = {
    "analysisruns.argoproj.io": "analysis-run-crd.yaml",
    "analysistemplates.argoproj.io": "analysis-template-crd.yaml",
    "clusteranalysistemplates.argoproj.io": "cluster-analysis-template-crd.yaml",
    "experiments.argoproj.io": "experiment-crd.yaml",
    "rollouts.argoproj.io": "rollout-crd.yaml",
}
# Logged by the controller once every informer cache has synced and its workers started;
# /healthz answers before that, so it alone does not mean Rollouts are being reconciled.
READY_MESSAGE = '"msg":"Started controller"'
DEFAULT_TIMEOUT_SECONDS = 90.0
KUBECTL_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.25


class ArgoRolloutsError(RuntimeError):
    """The controller or its CRDs could not be installed, started or stopped."""


@dataclasses.dataclass(frozen=True)
class ArgoRollouts:
    """A running controller, and where it serves its Prometheus metrics."""

    process: processes.Tracked
    metrics_url: str
    healthz_url: str
    ready_after_seconds: float


def missing_files(bin_dir: Path) -> list[Path]:
    """What hack/build-tools.sh argo-rollouts has not cached yet under `bin_dir`."""
    wanted = [bin_dir / BINARY, *(bin_dir / CRD_DIR / name for name in CRD_FILES.values())]
    return [path for path in wanted if not path.exists()]


def controller_command(
    bin_dir: Path, kubeconfig: Path, metrics_port: int, healthz_port: int
) -> list[str]:
    return [
        str(bin_dir / BINARY),
        f"--kubeconfig={kubeconfig}",
        "--leader-elect=false",
        f"--metricsport={metrics_port}",
        f"--healthzPort={healthz_port}",
        # JSON lines, so the readiness check matches a field rather than free text.
        "--logformat=json",
    ]


def _kubectl(bin_dir: Path, kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "kubectl"), f"--kubeconfig={kubeconfig}", *args],
        capture_output=True,
        text=True,
        timeout=KUBECTL_TIMEOUT_SECONDS,
        check=False,
    )


def apply_crds(bin_dir: Path, kubeconfig: Path, timeout: float = KUBECTL_TIMEOUT_SECONDS) -> None:
    """Apply the five CRDs server-side (they are too large for client-side apply's
    last-applied annotation) and wait until the apiserver serves every one."""
    # Named one by one: kubectl reads a linked directory, as bin/current has, as a file.
    files = [f"--filename={bin_dir / CRD_DIR / name}" for name in CRD_FILES.values()]
    applied = _kubectl(
        bin_dir, kubeconfig, "apply", "--server-side", "--force-conflicts",
        "--field-manager=airollout-harness", *files,
    )  # fmt: skip
    if applied.returncode != 0:
        raise ArgoRolloutsError(f"applying the Argo Rollouts CRDs failed: {applied.stderr}")
    # Polled: `kubectl wait` fails outright on a CRD that has no status condition yet.
    established = '{range .items[*]}{.status.conditions[?(@.type=="Established")].status}{" "}{end}'
    deadline = time.monotonic() + timeout
    while True:
        shown = _kubectl(
            bin_dir, kubeconfig, "get", "crd", *CRD_FILES, f"-o=jsonpath={established}"
        )
        if shown.returncode == 0 and shown.stdout.split() == ["True"] * len(CRD_FILES):
            return
        if time.monotonic() > deadline:
            raise ArgoRolloutsError(
                f"the Argo Rollouts CRDs were not Established within {timeout:.0f}s: "
                f"{shown.stdout or shown.stderr}"
            )
        time.sleep(POLL_SECONDS)


def _await_ready(controller: ArgoRollouts, deadline: float) -> None:
    process = controller.process
    while True:
        if not process.is_running():
            raise ArgoRolloutsError(
                f"argo-rollouts exited while starting; last lines of {process.log_file}:\n"
                f"{process.log_tail()}"
            )
        healthy = http.status_of(controller.healthz_url) == 200
        if healthy and READY_MESSAGE in processes.tail(process.log_file, 200):
            return
        if time.monotonic() > deadline:
            raise ArgoRolloutsError(
                f"argo-rollouts did not start its workers in time; last lines of "
                f"{process.log_file}:\n{process.log_tail()}"
            )
        time.sleep(POLL_SECONDS)


def start(
    state_dir: Path,
    bin_dir: Path,
    kubeconfig: Path,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    die_with_parent: bool = False,
) -> ArgoRollouts:
    """Install the CRDs and start the controller against the cluster of `kubeconfig`; its
    log and pid file go under `state_dir`. Stopped again when it does not become ready."""
    missing = missing_files(bin_dir)
    if missing:
        shown = ", ".join(str(path) for path in missing)
        raise ArgoRolloutsError(f"missing {shown}: run hack/build-tools.sh argo-rollouts")
    started_at = time.monotonic()
    apply_crds(bin_dir, kubeconfig, timeout)
    layout = Layout(state_dir.resolve())
    for directory in (layout.logs, layout.pids):
        directory.mkdir(parents=True, exist_ok=True)
    metrics_port, healthz_port = free_loopback_ports(2)
    argv = controller_command(bin_dir, kubeconfig, metrics_port, healthz_port)
    process = processes.start(layout, BINARY, argv, die_with_parent=die_with_parent)
    controller = ArgoRollouts(
        process,
        metrics_url=f"http://127.0.0.1:{metrics_port}/metrics",
        healthz_url=f"http://127.0.0.1:{healthz_port}/healthz",
        ready_after_seconds=0.0,
    )
    try:
        _await_ready(controller, started_at + timeout)
    except BaseException:
        processes.stop_all([process])
        raise
    return dataclasses.replace(controller, ready_after_seconds=time.monotonic() - started_at)


def stop(controller: ArgoRollouts) -> None:
    survivors = processes.stop_all([controller.process])
    if survivors:
        raise ArgoRolloutsError(f"could not stop argo-rollouts (pid {controller.process.pid})")
