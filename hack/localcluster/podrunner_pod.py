"""One pod on the runner's node: its init containers in order, then its containers, each a
host process in a process group of its own, restarted as `restartPolicy` says; its status
reported after every change; its processes stopped (SIGTERM, SIGKILL after the grace
period) when the pod is deleted, which is how a Job's deadline and deletion reach them.
"""

import contextlib
import ctypes
import dataclasses
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localcluster.podrunner_api import ApiError, RunnerApi, now_rfc3339
from localcluster.podrunner_env import (
    ConfigError,
    Lookup,
    command_line,
    container_env,
    passed_through,
)
from localcluster.podrunner_node import NODE_IP
from localcluster.podrunner_status import (
    ContainerRun,
    conditions,
    exit_code_of,
    init_phase,
    pod_phase,
    termination_message,
)
from localcluster.podrunner_volumes import TokenSource, host_path, mount_env, mounts, prepare

log = logging.getLogger("podrunner")
DEFAULT_MESSAGE_PATH = "/dev/termination-log"
CONFIG_RETRY_SECONDS = 2.0
POLL_SECONDS = 0.1
_LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_runner() -> None:
    """In the child before exec: SIGKILL when the runner dies, so no pod outlives it."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclasses.dataclass(frozen=True)
class RunnerContext:
    """What every pod worker shares: the apiserver, where files go, the service env."""

    api: RunnerApi
    pods_dir: Path
    logs_dir: Path
    service_env: dict[str, str]
    lookup: Lookup
    tokens: TokenSource
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0


@dataclasses.dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    message_path: Path
    log_path: Path


def _key(pod: dict[str, Any]) -> str:
    meta = pod["metadata"]
    return f"{meta['namespace']}_{meta['name']}_{meta['uid']}"


class PodWorker(threading.Thread):
    """Runs one pod to its end, or until it is deleted."""

    def __init__(self, pod: dict[str, Any], context: RunnerContext) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        super().__init__(name=f"pod {meta['namespace']}/{meta['name']}", daemon=True)
        self.pod, self.context = pod, context
        self.pod_dir = context.pods_dir / _key(pod)
        self.log_dir = context.logs_dir / _key(pod)
        self.policy = spec.get("restartPolicy", "Always")
        self.init_runs = [ContainerRun(c["name"], c.get("image", "")) for c in _inits(pod)]
        self.runs = [ContainerRun(c["name"], c.get("image", "")) for c in spec["containers"]]
        if self.init_runs:
            for run in self.runs:
                run.wait("PodInitializing")
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.grace = float(spec.get("terminationGracePeriodSeconds", 30))
        self.deleted = False
        self.shutting_down = False
        self.start_time = now_rfc3339()
        self.last_sent: dict[str, Any] | None = None

    def update(self, pod: dict[str, Any]) -> None:
        self.pod = pod
        if not pod["metadata"].get("deletionTimestamp"):
            return
        if self.is_alive():
            self.request_stop(float(pod["metadata"].get("deletionGracePeriodSeconds", 30)))
        else:  # ended (or ended under an earlier runner): only the final delete is left
            self._final_delete()

    def finished_before(self) -> None:
        """The pod ended under an earlier runner: nothing to start, nothing to report."""
        self.shutting_down = True

    def shut_down(self, grace: float) -> None:
        """The runner stops: end the processes, leave the pod's status as it is."""
        self.shutting_down = True
        self.grace = min(self.grace, grace)
        self.stopping.set()

    def request_stop(self, grace: float) -> None:
        self.grace = min(self.grace, grace) if self.stopping.is_set() else grace
        self.deleted = True
        self.stopping.set()

    def run(self) -> None:
        try:
            self._run()
        except Exception:
            log.exception("pod %s failed in the runner", self.name)
        finally:
            self.report()
            if self.deleted:
                self._final_delete()

    def _run(self) -> None:
        folders = self._prepare()
        if folders is None:
            return
        self.report()
        inits = zip(_inits(self.pod), self.init_runs, strict=True)
        for container, run in inits:
            code = self._supervise(container, run, folders, self._restart_init)
            if code != 0:
                return
        keepers = [
            threading.Thread(target=self._supervise, args=(c, r, folders, self._restart))
            for c, r in zip(self.pod["spec"]["containers"], self.runs, strict=True)
        ]
        for keeper in keepers:
            keeper.start()
        for keeper in keepers:
            keeper.join()

    def _prepare(self) -> dict[str, Path] | None:
        """The volumes' folders; until they can be made, the containers wait."""
        while not self.stopping.is_set():
            try:
                return prepare(self.pod, self.pod_dir, self.context.lookup, self.context.tokens)
            except (ConfigError, ApiError) as error:
                with self.lock:
                    for run in self.init_runs[:1] or self.runs:
                        run.wait("CreateContainerConfigError", str(error))
                self.report()
                self.stopping.wait(CONFIG_RETRY_SECONDS)
        return None

    def _restart_init(self, code: int) -> bool:
        return code != 0 and self.policy != "Never"

    def _restart(self, code: int) -> bool:
        return self.policy == "Always" or (self.policy == "OnFailure" and code != 0)

    def _supervise(
        self,
        container: dict[str, Any],
        run: ContainerRun,
        folders: dict[str, Path],
        restart: Callable[[int], bool],
    ) -> int | None:
        """Run the container until it ends for good; its last exit code, None if stopped."""
        backoff = self.context.backoff_seconds
        while not self.stopping.is_set():
            code = self._run_once(container, run, folders)
            if code is None or not restart(code) or self.stopping.is_set():
                return code
            with self.lock:
                run.wait("CrashLoopBackOff", f"back-off {backoff:g}s restarting failed container")
            self.report()
            if self.stopping.wait(backoff):
                return code
            backoff = min(backoff * 2, self.context.max_backoff_seconds)
        return None

    def _launch(
        self, container: dict[str, Any], run: ContainerRun, folders: dict[str, Path]
    ) -> Launch:
        mapped = mounts(container, folders)
        message = container.get("terminationMessagePath", DEFAULT_MESSAGE_PATH)
        message_path = host_path(message, mapped)
        if message_path == Path(DEFAULT_MESSAGE_PATH):  # shared by every pod on the host
            message_path = self.pod_dir / "containers" / container["name"] / "termination-log"
        meta = self.pod["metadata"]
        base = {**passed_through(), **self.context.service_env, "HOSTNAME": meta["name"]}
        base.update(mount_env(container, mapped))
        base["AIROLLOUT_TERMINATION_MESSAGE_PATH"] = str(message_path)
        env = container_env(self.pod, container, self.context.lookup, base)
        cwd = host_path(container["workingDir"], mapped) if container.get("workingDir") else None
        log_path = self.log_dir / container["name"] / f"{run.restart_count}.log"
        return Launch(command_line(container, env), env, cwd or self.pod_dir, message_path,
                      log_path)  # fmt: skip

    def _run_once(
        self, container: dict[str, Any], run: ContainerRun, folders: dict[str, Path]
    ) -> int | None:
        while not self.stopping.is_set():
            try:
                launch = self._launch(container, run, folders)
                process = _start(launch, self.pod_dir)
                break
            except (ConfigError, ApiError, OSError) as error:
                reason = "CreateContainerConfigError"
                with self.lock:
                    run.state = {"waiting": {"reason": reason, "message": str(error)}}
                self.report()
                self.stopping.wait(CONFIG_RETRY_SECONDS)
        else:
            return None
        started = time.time()
        with self.lock:
            run.start(process.pid)
        self.report()
        code = self._wait(process)
        message = _read_message(container, launch, started, code)
        with self.lock:
            run.finish(code, message)
        self.report()
        return code

    def _wait(self, process: subprocess.Popen[bytes]) -> int:
        while process.poll() is None:
            if self.stopping.wait(POLL_SECONDS):
                _stop_group(process, self.grace)
        # What the container left running in the background ends with it, as in a cgroup.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return exit_code_of(process.returncode)

    def _status(self) -> dict[str, Any]:
        initial = init_phase(self.init_runs, self.policy)
        phase = initial or pod_phase(self.runs, self.policy)
        if self.deleted and not self.is_running_any():
            phase = "Succeeded" if all(r.exit_code == 0 for r in self.runs) else "Failed"
        ready = phase == "Running" and all("running" in r.state for r in self.runs)
        ips = [{"ip": NODE_IP}]
        return {
            "phase": phase,
            "hostIP": NODE_IP,
            "hostIPs": ips,
            "podIP": NODE_IP,
            "podIPs": ips,
            "startTime": self.start_time,
            "conditions": conditions(self.pod, phase, initial is None, ready),
            "initContainerStatuses": [r.status(r.exit_code == 0) for r in self.init_runs],
            "containerStatuses": [r.status(ready) for r in self.runs],
        }

    def is_running_any(self) -> bool:
        return any("running" in r.state for r in [*self.init_runs, *self.runs])

    def report(self) -> None:
        with self.lock:
            status = self._status()
            if status == self.last_sent or self.shutting_down:
                return
            meta = self.pod["metadata"]
            path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status"
            try:
                self.context.api.ok("PATCH", path, {"status": status}, allow=(404,))
                self.last_sent = status
            except (ApiError, OSError) as error:
                log.warning("status of %s not reported: %s", self.name, error)

    def _final_delete(self) -> None:
        """A deleted pod is gone from the apiserver once its kubelet says it has stopped."""
        meta = self.pod["metadata"]
        options = {"gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}}
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
        with contextlib.suppress(ApiError, OSError):
            self.context.api.ok("DELETE", path, options, allow=(404, 409))


def _inits(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod["spec"].get("initContainers") or [])


def _start(launch: Launch, pod_dir: Path) -> subprocess.Popen[bytes]:
    launch.cwd.mkdir(parents=True, exist_ok=True)
    launch.log_path.parent.mkdir(parents=True, exist_ok=True)
    if pod_dir in launch.message_path.parents:  # a fresh file of its own for each run
        launch.message_path.parent.mkdir(parents=True, exist_ok=True)
        launch.message_path.write_bytes(b"")
    with launch.log_path.open("ab") as log_file:
        return subprocess.Popen(
            launch.argv,
            env=launch.env,
            cwd=launch.cwd,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_runner,
        )


def _stop_group(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM to the container's process group, SIGKILL once the grace period is over."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _read_message(container: dict[str, Any], launch: Launch, started: float, code: int) -> str:
    """The file at terminationMessagePath, when this run wrote it; the log's tail instead
    when the policy is FallbackToLogsOnError and the container failed without one."""
    written = b""
    with contextlib.suppress(OSError):
        if launch.message_path.stat().st_mtime >= started - 1:
            written = launch.message_path.read_bytes()
    fallback = container.get("terminationMessagePolicy") == "FallbackToLogsOnError"
    log_tail = b""
    if fallback and not written.strip():
        with contextlib.suppress(OSError):
            log_tail = launch.log_path.read_bytes()[-64 * 1024 :]
    return termination_message(written, log_tail, fallback, code)
