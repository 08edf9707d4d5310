"""Bring the local cluster up, find a running one, and take it down.

Every wait has a deadline and watches the processes started so far: a component that exits
ends the wait at once with the last lines of its log, rather than a time-out much later.
"""

import dataclasses
import functools
import json
import shlex
import shutil
import ssl
import time
from collections.abc import Callable
from pathlib import Path

from localcluster import components, http, nodes, processes
from localcluster.kubeconfig import write_kubeconfig
from localcluster.layout import Layout, Ports
from localcluster.pki import Pki, make_pki
from localcluster.ports import free_loopback_ports
from localcluster.prometheus import write_config

DEFAULT_TIMEOUT_SECONDS = 120.0
POLL_SECONDS = 0.25
REQUIRED_BINARIES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kwok",
    "prometheus",
)


class ClusterError(RuntimeError):
    """A cluster could not be started, found or stopped; the first line says why."""


@dataclasses.dataclass(frozen=True)
class ClusterInfo:
    """What a client of a running cluster needs; saved as cluster.json in the state dir."""

    state_dir: Path
    kubeconfig: Path
    apiserver_url: str
    prometheus_url: str
    scrape_targets: Path
    bin_dir: Path

    def exports(self) -> str:
        """Shell lines for `eval`: the built kubectl first on PATH, then the cluster's env."""
        lines = [
            f"export KUBECONFIG={shlex.quote(str(self.kubeconfig))}",
            f"export PROMETHEUS_URL={shlex.quote(self.prometheus_url)}",
            f'export PATH={shlex.quote(str(self.bin_dir))}:"$PATH"',
        ]
        return "\n".join(lines) + "\n"

    def save(self, path: Path) -> None:
        fields = {k: str(v) for k, v in dataclasses.asdict(self).items()}
        path.write_text(json.dumps(fields, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> "ClusterInfo":
        fields = json.loads(path.read_text())
        return cls(
            state_dir=Path(fields["state_dir"]),
            kubeconfig=Path(fields["kubeconfig"]),
            apiserver_url=fields["apiserver_url"],
            prometheus_url=fields["prometheus_url"],
            scrape_targets=Path(fields["scrape_targets"]),
            bin_dir=Path(fields["bin_dir"]),
        )


class _Startup:
    """Launches processes and polls conditions until one shared deadline, failing fast when
    any process launched so far exits."""

    def __init__(self, layout: Layout, timeout: float, die_with_parent: bool) -> None:
        self.layout = layout
        self.die_with_parent = die_with_parent
        self.started_at = time.monotonic()
        self.deadline = self.started_at + timeout
        self.watched: list[processes.Tracked] = []

    def launch(self, name: str, argv: list[str]) -> processes.Tracked:
        process = processes.start(self.layout, name, argv, die_with_parent=self.die_with_parent)
        self.watched.append(process)
        return process

    def until(self, what: str, check: Callable[[], bool], blame: processes.Tracked) -> None:
        while True:
            for process in self.watched:
                if not process.is_running():
                    raise ClusterError(
                        f"{process.name} exited while waiting for {what}; "
                        f"last lines of {process.log_file}:\n{process.log_tail()}"
                    )
            if check():
                return
            if time.monotonic() > self.deadline:
                waited = time.monotonic() - self.started_at
                raise ClusterError(
                    f"timed out after {waited:.0f}s waiting for {what}; "
                    f"last lines of {blame.log_file}:\n{blame.log_tail()}"
                )
            time.sleep(POLL_SECONDS)


def _check_binaries(bin_dir: Path) -> None:
    missing = [name for name in REQUIRED_BINARIES if not (bin_dir / name).exists()]
    if missing:
        raise ClusterError(
            f"missing {', '.join(missing)} in {bin_dir}: run hack/build-tools.sh (make tools)"
        )


def _is_cluster_dir(layout: Layout) -> bool:
    return layout.pids.is_dir() or layout.info_file.exists()


def _clear_stale(layout: Layout) -> None:
    """Refuse a second cluster in one directory; clean up after a crashed or failed one."""
    if not layout.root.exists() or not any(layout.root.iterdir()):
        return
    if not _is_cluster_dir(layout):
        raise ClusterError(f"{layout.root} exists and is not a cluster state directory")
    tracked = processes.read_tracked(layout)
    if tracked and all(p.is_running() for p in tracked) and layout.info_file.exists():
        raise ClusterError(
            f"a cluster is already running in {layout.root} "
            "(`hack/cluster.sh env` prints its exports, `hack/cluster.sh down` stops it)"
        )
    processes.stop_all(tracked)
    shutil.rmtree(layout.root)


def _start_control_plane(startup: _Startup, bin_dir: Path, ports: Ports, pki: Pki) -> http.KubeApi:
    layout = startup.layout
    etcd = startup.launch("etcd", components.etcd_command(bin_dir, layout, ports))
    etcd_health = f"http://127.0.0.1:{ports.etcd_client}/health"
    startup.until("etcd to be healthy", _answers_ok(etcd_health), etcd)

    server = f"https://127.0.0.1:{ports.apiserver}"
    write_kubeconfig(layout.kubeconfig, server, pki)
    apiserver_argv = components.apiserver_command(bin_dir, layout, ports, pki)
    apiserver = startup.launch("kube-apiserver", apiserver_argv)
    api = http.KubeApi(server, pki)
    startup.until("the apiserver's /readyz", lambda: api.status("/readyz") == 200, apiserver)
    return api


@dataclasses.dataclass(frozen=True)
class _Agents:
    """The processes that start after the apiserver, and where their health is read."""

    cm: processes.Tracked
    scheduler: processes.Tracked
    kwok: processes.Tracked
    prometheus: processes.Tracked
    scheduler_health: str
    prometheus_url: str


def _start_node_agents(
    startup: _Startup, bin_dir: Path, ports: Ports, pki: Pki
) -> list[processes.Tracked]:
    layout = startup.layout
    commands = {
        "kube-controller-manager": components.controller_manager_command(
            bin_dir, layout, ports, pki
        ),
        "kube-scheduler": components.scheduler_command(bin_dir, layout, ports),
        "kwok": components.kwok_command(bin_dir, layout, ports),
    }
    return [startup.launch(name, argv) for name, argv in commands.items()]


def _create_node(api: http.KubeApi, name: str) -> None:
    status, body = api.request("POST", "/api/v1/nodes", nodes.kwok_node(name))
    if status not in (200, 201):
        raise ClusterError(f"creating node {name} failed with HTTP {status}: {body}")


def _node_ready(api: http.KubeApi, name: str) -> bool:
    status, body = api.request("GET", f"/api/v1/nodes/{name}")
    return status == 200 and nodes.is_ready(body)


def _answers_ok(url: str, context: ssl.SSLContext | None = None) -> Callable[[], bool]:
    return lambda: http.status_of(url, context) == 200


def _wait_ready(
    api: http.KubeApi, agents: _Agents, node_names: list[str], startup: _Startup
) -> None:
    sa_path = "/api/v1/namespaces/default/serviceaccounts/default"
    startup.until("the default ServiceAccount", lambda: api.status(sa_path) == 200, agents.cm)
    for name in node_names:
        node_ready = functools.partial(_node_ready, api, name)
        startup.until(f"node {name} to be Ready", node_ready, agents.kwok)
    scheduler_ok = _answers_ok(agents.scheduler_health, http.unverified_tls())
    startup.until("the scheduler's /healthz", scheduler_ok, agents.scheduler)
    prometheus_ok = _answers_ok(agents.prometheus_url + "/-/ready")
    startup.until("Prometheus /-/ready", prometheus_ok, agents.prometheus)


def _start(startup: _Startup, bin_dir: Path, node_count: int) -> ClusterInfo:
    layout = startup.layout
    ports = Ports.from_list(free_loopback_ports(Ports.count()))
    pki = make_pki(layout.pki)
    prometheus_url = f"http://127.0.0.1:{ports.prometheus}"
    write_config(layout.prometheus_config, f"127.0.0.1:{ports.prometheus}", layout.scrape_targets)
    prometheus_argv = components.prometheus_command(bin_dir, layout, ports)
    prometheus = startup.launch("prometheus", prometheus_argv)

    api = _start_control_plane(startup, bin_dir, ports, pki)
    cm, scheduler, kwok = _start_node_agents(startup, bin_dir, ports, pki)
    node_names = [nodes.kwok_node_name(i) for i in range(node_count)]
    for name in node_names:
        _create_node(api, name)
    scheduler_health = f"https://127.0.0.1:{ports.scheduler}/healthz"
    agents = _Agents(cm, scheduler, kwok, prometheus, scheduler_health, prometheus_url)
    _wait_ready(api, agents, node_names, startup)
    return ClusterInfo(
        state_dir=layout.root,
        kubeconfig=layout.kubeconfig,
        apiserver_url=api.server,
        prometheus_url=prometheus_url,
        scrape_targets=layout.scrape_targets,
        bin_dir=bin_dir,
    )


def up(
    state_dir: Path,
    bin_dir: Path,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    node_count: int = 1,
    die_with_parent: bool = False,
    pod_runner: bool = False,
) -> ClusterInfo:
    """Start a cluster in `state_dir` and return once it is ready to use.

    Ready means: the apiserver answers /readyz, every kwok node is Ready, the `default`
    ServiceAccount exists (the controller-manager works), the scheduler is healthy and
    Prometheus is ready. On failure every process started is stopped and the logs are kept.
    With `die_with_parent` the processes get SIGTERM when the calling process dies, so a
    killed test session leaves no cluster behind; `hack/cluster.sh up` must not set it.
    With `pod_runner` a Node whose pods really run joins it (localcluster.podrunner).
    """
    layout = Layout(state_dir.resolve())
    _check_binaries(bin_dir)
    _clear_stale(layout)
    layout.make_dirs()
    startup = _Startup(layout, timeout, die_with_parent)
    try:
        info = _start(startup, bin_dir, node_count)
        if pod_runner:
            from localcluster.podrunner import start_pod_runner  # it imports this module

            start_pod_runner(info, die_with_parent=die_with_parent)
    except BaseException as error:
        processes.stop_all(processes.read_tracked(layout))
        if isinstance(error, RuntimeError) and not isinstance(error, ClusterError):
            raise ClusterError(f"{error} (logs in {layout.logs})") from error
        raise
    info.save(layout.info_file)
    return info


def read_running(state_dir: Path) -> ClusterInfo:
    """The running cluster in `state_dir`; an error when it is absent or a process died."""
    layout = Layout(state_dir.resolve())
    if not layout.info_file.exists():
        raise ClusterError(f"no cluster running in {layout.root} (start one: hack/cluster.sh up)")
    for process in processes.read_tracked(layout):
        if not process.is_running():
            raise ClusterError(
                f"{process.name} (pid {process.pid}) of the cluster in {layout.root} is not "
                f"running; `hack/cluster.sh down` cleans up. Last lines of {process.log_file}:\n"
                f"{process.log_tail()}"
            )
    return ClusterInfo.load(layout.info_file)


def down(state_dir: Path) -> str:
    """Stop every process the cluster in `state_dir` started and remove its state."""
    layout = Layout(state_dir.resolve())
    if not layout.root.exists():
        return f"no cluster in {layout.root}; nothing to stop"
    if not _is_cluster_dir(layout):
        raise ClusterError(f"{layout.root} is not a cluster state directory; not removing it")
    tracked = processes.read_tracked(layout)
    running = [p.name for p in tracked if p.is_running()]
    survivors = processes.stop_all(tracked)
    if survivors:
        names = ", ".join(f"{p.name} (pid {p.pid})" for p in survivors)
        raise ClusterError(f"could not stop {names}; state kept in {layout.root}")
    shutil.rmtree(layout.root)
    stopped = ", ".join(running) or "nothing (no process was running)"
    return f"stopped {stopped}; removed {layout.root}"
