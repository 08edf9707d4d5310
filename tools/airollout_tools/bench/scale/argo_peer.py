"""`airollout bench operator --peer argo`: the same N rollouts driven by the real Argo
Rollouts controller, beside AIRollout's run on the same cluster.

For each size, after AIRollout's run: a namespace with N Rollouts of the same targets
(2 replicas of the pause image, kwok makes them Ready), created at the stable image and left
to become Healthy, then all updated to the new image at once. Their canary steps walk the
same slices with an analysis step between each, one `web` measurement a window after the
step begins, answered by an always-pass endpoint in this process, so only the controllers
are compared. The controller runs with its default flags (as its users run it), every
thread pinned to the same core as the operator's."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from airollout.core.resource.durations import parse_duration
from airollout_tools.bench.scale.cluster import (
    BenchError,
    Cluster,
    ProcessProbe,
    _create_namespace,
    _delete_namespace,
    _wait_for,
    local_cluster,
    nodes_for,
    run_size,
    serve_exporter,
)
from airollout_tools.bench.scale.peer_report import (
    ArgoStepWatch,
    PeerReport,
    always_pass_template,
    canary_steps,
)
from airollout_tools.bench.scale.report import (
    DelaySummary,
    SliceReport,
)
from airollout_tools.bench.scale.settings import (
    IMAGE,
    NEW_IMAGE,
    TARGET_REPLICAS,
    ScaleSettings,
)
from airollout_tools.bench.scale.watching import watch_objects
from airollout_tools.bench.scale.workloads import pause_deployment
from localcluster import argo_rollouts
from localcluster.layout import bin_dir_from_env

GROUP, VERSION = "argoproj.io", "v1alpha1"
TEMPLATE_NAME = "always-pass"
CONTROLLER = "Argo Rollouts"


class AlwaysPass:
    """An HTTP endpoint on a free loopback port that answers every request `{"ok": true}`
    and counts them."""

    def __init__(self) -> None:
        self.requests = 0
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                with lock:
                    owner.requests += 1
                body = json.dumps({"ok": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815 (http.server's names)

            def log_message(self, *_: Any) -> None:  # one line per request is noise here
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class PinnedController(ProcessProbe):
    """The running controller's process, seen through /proc."""

    running: argo_rollouts.ArgoRollouts

    @property
    def pid(self) -> int:
        return self.running.process.pid

    def pin(self, core: int) -> None:
        """Every thread now; the Go runtime's later threads inherit the mask."""
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            with contextlib.suppress(ProcessLookupError, FileNotFoundError):
                os.sched_setaffinity(int(task.name), {core})


@contextlib.contextmanager
def argo_controller(cluster: Cluster, state_dir: Path, core: int) -> Iterator[PinnedController]:
    try:
        running = argo_rollouts.start(
            state_dir, bin_dir_from_env(), cluster.kubeconfig, die_with_parent=True
        )
    except argo_rollouts.ArgoRolloutsError as error:
        raise BenchError(str(error)) from error
    controller = PinnedController(running)
    try:
        controller.pin(core)
        yield controller
    finally:
        argo_rollouts.stop(running)


def rollout_body(name: str, image: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    spec = {**pause_deployment(name, TARGET_REPLICAS, image)["spec"]}
    spec["strategy"] = {"canary": {"steps": steps}}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Rollout",
        "metadata": {"name": name},
        "spec": spec,
    }


def run_argo_size(
    cluster: Cluster,
    controller: PinnedController,
    endpoint: AlwaysPass,
    rollouts: int,
    settings: ScaleSettings,
) -> PeerReport:
    namespace = f"bench-argo-{rollouts}-{os.getpid()}"
    names = [f"web-{index}" for index in range(rollouts)]
    window = parse_duration(settings.interval)
    steps = canary_steps(settings.slices, TEMPLATE_NAME)
    _create_namespace(cluster, namespace)
    try:
        _create(cluster, namespace, "analysistemplates", always_pass_template(
            TEMPLATE_NAME, endpoint.url, window
        ))  # fmt: skip
        for name in names:
            _create(cluster, namespace, "rollouts", rollout_body(name, IMAGE, steps))
        _wait_for(
            lambda: _healthy(cluster, namespace) >= rollouts,
            120 + rollouts,
            f"{rollouts} Rollouts to be Healthy at the stable image",
        )
        return _measure(cluster, controller, endpoint, namespace, names, steps, settings)
    finally:
        _delete_namespace(cluster, namespace)


def _create(cluster: Cluster, namespace: str, plural: str, body: dict[str, Any]) -> None:
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body)


def _healthy(cluster: Cluster, namespace: str) -> int:
    listing = cluster.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, "rollouts")
    return sum(
        (item.get("status") or {}).get("phase") == "Healthy" for item in listing.get("items", [])
    )


def _measure(
    cluster: Cluster,
    controller: PinnedController,
    endpoint: AlwaysPass,
    namespace: str,
    names: Sequence[str],
    steps: list[dict[str, Any]],
    settings: ScaleSettings,
) -> PeerReport:
    seen = ArgoStepWatch(len(steps), parse_duration(settings.interval))
    stop = threading.Event()
    watchers = [
        threading.Thread(
            target=watch_objects,
            args=(cluster.custom, (GROUP, VERSION, plural), namespace, observe, stop),
            daemon=True,
        )
        for plural, observe in (
            ("rollouts", seen.observe_rollout),
            ("analysisruns", seen.observe_analysis_run),
        )
    ]
    for watcher in watchers:
        watcher.start()
    time.sleep(1)  # both watches listed before the first update
    answered_before = endpoint.requests
    cpu_before, started = controller.cpu_seconds(), time.monotonic()
    try:
        patch = {
            "spec": {"template": {"spec": {"containers": [{"name": "main", "image": NEW_IMAGE}]}}}
        }
        for name in names:
            cluster.custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, "rollouts", name, patch
            )
        deadline = started + settings.timeout_seconds
        while not seen.finished(names) and time.monotonic() < deadline:
            if not controller.running.process.is_running():
                raise BenchError(f"argo-rollouts exited: {controller.running.process.log_tail()}")
            time.sleep(0.5)
        wall = time.monotonic() - started
        cpu = controller.cpu_seconds() - cpu_before
        peak_rss, cores = controller.peak_rss_bytes(), controller.pinned_cores()
    finally:
        stop.set()
        for watcher in watchers:
            watcher.join(10)
    to_next, to_applied, from_window = seen.delays()
    outcomes = seen.outcome_counts()
    return PeerReport(
        controller=CONTROLLER,
        rollouts=len(names),
        succeeded=outcomes.get("Succeeded", 0),
        outcomes=outcomes,
        timed_out=not seen.finished(names),
        wall_seconds=wall,
        seen=DelaySummary.of(to_next),
        applied=DelaySummary.of(to_applied),
        from_window_end=DelaySummary.of(from_window),
        analysis_requests=endpoint.requests - answered_before,
        cpu_seconds=cpu,
        peak_rss_bytes=peak_rss,
        pinned_cores=cores,
        load_average=os.getloadavg(),
    )


def run_side_by_side(
    settings: ScaleSettings,
    progress: Callable[[SliceReport | PeerReport], None] = lambda _: None,
) -> tuple[list[SliceReport], list[PeerReport]]:
    """Each size with AIRollout, then with Argo Rollouts, on one local cluster; the Argo
    controller runs only while its own sizes do."""
    ours: list[SliceReport] = []
    theirs: list[PeerReport] = []
    with (
        tempfile.TemporaryDirectory(prefix="airollout-bench-operator-") as state,
        local_cluster(Path(state), nodes_for(max(settings.sizes))) as cluster,
    ):
        cluster.install_crd()
        exporter = serve_exporter(cluster, settings)
        endpoint = AlwaysPass()
        try:
            for size in settings.sizes:
                ours.append(run_size(cluster, exporter, size, settings))
                progress(ours[-1])
                argo_state = settings.log_dir / f"argo-rollouts-{size}"
                with argo_controller(cluster, argo_state, settings.core) as controller:
                    theirs.append(run_argo_size(cluster, controller, endpoint, size, settings))
                progress(theirs[-1])
        finally:
            endpoint.close()
    return ours, theirs
