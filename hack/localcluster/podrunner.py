"""A kubelet for one Node of the local cluster: the pods bound to it run as host processes.

kwok plays the pods of its nodes without running anything. This runner registers a Node
of its own (no kwok annotation, tainted `airollout.dev/local-runner=true:NoSchedule`,
labelled `airollout.dev/local-runner=true`), keeps its Lease and Ready condition, watches
the pods bound to it, and runs them: init containers in order, then the containers, with
the env, volumes and ServiceAccount token a kubelet would give them. The real scheduler,
Job controller and apiserver do the rest, so Jobs behave as in any cluster.

Where it differs from a kubelet, because there is no container engine:
- The image is ignored: `command` (with `args`) runs on the host, as the runner's user;
  a container without a command waits with CreateContainerConfigError.
- No mount namespaces: volumes (emptyDir, configMap, secret, projected, downwardAPI,
  hostPath) are folders under the pod's directory, not at their mountPath; a process finds
  them through AIROLLOUT_VOLUME_<NAME>, AIROLLOUT_MOUNTS (mountPath -> folder, JSON) and
  AIROLLOUT_SERVICEACCOUNT_DIR (token, ca.crt, namespace). workingDir and
  terminationMessagePath under a mountPath map into that folder, other paths are host
  paths; the default /dev/termination-log maps to a file of the container's own, named in
  AIROLLOUT_TERMINATION_MESSAGE_PATH.
- Host network: podIP and hostIP are 127.0.0.1; KUBERNETES_SERVICE_HOST/PORT name the
  apiserver on loopback (its certificate holds 127.0.0.1). No other service variables.
- No probes (a running container is ready), no resource limits, no securityContext, no
  sidecar init containers; the token is requested once (valid an hour or more).
- Each run's output is kept in <state>/logs/pods/<ns>_<pod>_<uid>/<container>/<n>.log,
  and served for `kubectl logs` (tailLines and previous; not follow).

`start_pod_runner(info)` starts it as a process of the cluster (so `down` stops it);
`python -m localcluster.podrunner --state-dir DIR --server URL` runs it in the foreground.
"""

import argparse
import dataclasses
import logging
import signal
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from localcluster import processes
from localcluster.cluster import ClusterError, ClusterInfo
from localcluster.layout import Layout
from localcluster.nodes import is_ready
from localcluster.pki import Pki
from localcluster.podrunner_api import ApiError, RunnerApi
from localcluster.podrunner_env import Lookup, decoded
from localcluster.podrunner_logs import serve_logs
from localcluster.podrunner_node import HEARTBEAT_SECONDS, NODE_IP, NodeAgent
from localcluster.podrunner_pod import PodWorker, RunnerContext
from localcluster.podrunner_volumes import TokenSource

log = logging.getLogger("podrunner")
DEFAULT_NODE = "executor-node-0"
PROCESS_NAME = "pod-runner"
READY_TIMEOUT_SECONDS = 60.0
RETRY_SECONDS = 1.0
SHUTDOWN_GRACE_SECONDS = 2.0
HACK_DIR = Path(__file__).resolve().parents[1]


def _lookup(api: RunnerApi) -> Lookup:
    def get(kind: str, namespace: str, name: str) -> dict[str, str] | None:
        path = f"/api/v1/namespaces/{namespace}/{kind}/{name}"
        status, body = api.request("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise ApiError("GET", path, status, body)
        return decoded(kind, body)

    return get


def _tokens(api: RunnerApi) -> TokenSource:
    def request(
        namespace: str, account: str, audience: str, seconds: int, pod: dict[str, Any]
    ) -> str:
        bound = {"apiVersion": "v1", "kind": "Pod", "name": pod["metadata"]["name"],
                 "uid": pod["metadata"]["uid"]}  # fmt: skip
        spec = {"audiences": [audience] if audience else [], "expirationSeconds": seconds,
                "boundObjectRef": bound}  # fmt: skip
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token"
        return str(api.ok("POST", path, body)["status"]["token"])

    return request


def service_env(server: str) -> dict[str, str]:
    port = str(urllib.parse.urlsplit(server).port or 443)
    return {
        "KUBERNETES_SERVICE_HOST": NODE_IP,
        "KUBERNETES_SERVICE_PORT": port,
        "KUBERNETES_SERVICE_PORT_HTTPS": port,
        "KUBERNETES_PORT": f"tcp://{NODE_IP}:{port}",
    }


class Runner:
    """Lists and watches the pods bound to the node, one worker thread per pod."""

    def __init__(self, context: RunnerContext, node: str) -> None:
        self.context = context
        self.path = f"/api/v1/pods?fieldSelector=spec.nodeName%3D{node}"
        self.workers: dict[str, PodWorker] = {}

    def serve(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                version = self._list()
                for event in self.context.api.watch(self.path, version):
                    self._event(event)
            except (OSError, ValueError, ApiError) as error:
                log.warning("pod watch ended (%s); listing again", error)
                stopping.wait(RETRY_SECONDS)

    def _list(self) -> str:
        listed = self.context.api.ok("GET", self.path)
        for pod in listed["items"]:
            self._seen(pod)
        # A pod deleted while no watch was open: its DELETED event was never seen.
        present = {pod["metadata"]["uid"] for pod in listed["items"]}
        for uid in set(self.workers) - present:
            self.workers.pop(uid).request_stop(0)
        return str(listed["metadata"]["resourceVersion"])

    def _event(self, event: dict[str, Any]) -> None:
        if event["type"] == "ERROR":
            raise ApiError("WATCH", self.path, event["object"].get("code", 0), event["object"])
        pod = event["object"]
        if event["type"] == "DELETED":
            worker = self.workers.pop(pod["metadata"]["uid"], None)
            if worker is not None:
                worker.request_stop(0)
        elif event["type"] in ("ADDED", "MODIFIED"):
            self._seen(pod)

    def _seen(self, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        worker = self.workers.get(uid)
        if worker is None:
            worker = PodWorker(pod, self.context)
            self.workers[uid] = worker
            if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                worker.finished_before()  # a run of an earlier runner: nothing to start
            else:
                worker.start()
        worker.update(pod)

    def shutdown(self) -> None:
        """Stop every process; the pods stay as they are in the apiserver."""
        for worker in self.workers.values():
            worker.shut_down(SHUTDOWN_GRACE_SECONDS)
        for worker in self.workers.values():
            if worker.is_alive():
                worker.join(SHUTDOWN_GRACE_SECONDS + 5)


def _heartbeats(agent: NodeAgent, stopping: threading.Event) -> None:
    while not stopping.wait(HEARTBEAT_SECONDS):
        try:
            agent.heartbeat()
        except (OSError, ValueError, ApiError) as error:
            log.warning("node heartbeat failed: %s", error)


def run(state_dir: Path, server: str, node: str, stopping: threading.Event) -> None:
    """The runner in this process, until `stopping` is set."""
    layout = Layout(state_dir.resolve())
    api = RunnerApi(server, Pki.under(layout.pki))
    home = layout.root / "podrunner" / node
    logs_dir = layout.logs / "pods"
    log_server = serve_logs(logs_dir, home / "pki", node)
    agent = NodeAgent(api, node, log_server.server_port)
    agent.register()
    context = RunnerContext(
        api, home / "pods", logs_dir, service_env(server), _lookup(api), _tokens(api)
    )
    runner = Runner(context, node)
    for target in (lambda: _heartbeats(agent, stopping), lambda: runner.serve(stopping)):
        threading.Thread(target=target, daemon=True).start()
    log.info("node %s registered; kubelet logs on %s:%d", node, NODE_IP, log_server.server_port)
    stopping.wait()
    runner.shutdown()
    log_server.shutdown()


@dataclasses.dataclass(frozen=True)
class PodRunner:
    """A runner started by `start_pod_runner`; `stop` ends it and removes its Node."""

    process: processes.Tracked
    node: str
    api: RunnerApi
    layout: Layout

    def stop(self) -> None:
        processes.stop_all([self.process])
        # Without its pid file, `read_running` would take the stopped runner for a crash.
        self.layout.pid_file(self.process.name).unlink(missing_ok=True)
        self.api.request("DELETE", f"/api/v1/nodes/{self.node}")


def _argv(info: ClusterInfo, node: str) -> list[str]:
    return [sys.executable, "-m", "localcluster.podrunner", "--state-dir", str(info.state_dir),
            "--server", info.apiserver_url, "--node", node]  # fmt: skip


def start_pod_runner(
    info: ClusterInfo, node: str = DEFAULT_NODE, die_with_parent: bool = True
) -> PodRunner:
    """Start the runner as a process of the cluster in `info` and wait for its Node to be
    Ready with no taint but its own (the node controller's not-ready taint is gone)."""
    layout = Layout(info.state_dir)
    env = {"PYTHONPATH": str(HACK_DIR)}
    name = f"{PROCESS_NAME}-{node}"
    argv = _argv(info, node)
    process = processes.start(layout, name, argv, die_with_parent=die_with_parent, env=env)
    api = RunnerApi(info.apiserver_url, Pki.under(layout.pki))
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not _schedulable(api, node):
        if not process.is_running() or time.monotonic() > deadline:
            processes.stop_all([process])
            raise ClusterError(f"pod runner's node {node} did not become Ready; last lines of "
                               f"{process.log_file}:\n{process.log_tail()}")  # fmt: skip
        time.sleep(0.25)
    return PodRunner(process, node, api, layout)


def _schedulable(api: RunnerApi, node: str) -> bool:
    status, body = api.request("GET", f"/api/v1/nodes/{node}")
    if status != 200 or not is_ready(body):
        return False
    taints = body.get("spec", {}).get("taints") or []
    return all(t["key"].startswith("airollout.dev/") for t in taints)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcluster.podrunner", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True, help="the cluster's state dir")
    parser.add_argument("--server", required=True, help="the apiserver's URL")
    parser.add_argument("--node", default=DEFAULT_NODE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    run(args.state_dir, args.server, args.node, stopping)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
