"""A real MLflow tracking server on loopback, from a venv of its own.

The project's venv holds only mlflow-skinny (the client): the server's pins (Flask,
SQLAlchemy, alembic, ...) must not leak into it, so the server is installed into a cached
venv of its own with `uv venv` + `uv pip install`, once per version; from the uv cache
that takes seconds. Standard library only, like the rest of the harness.
"""

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from localcluster.ports import free_loopback_ports

MLFLOW_VERSION = "3.17.2"
START_TIMEOUT_SECONDS = 300.0  # imports alone take a minute on a busy 2-core machine
STOP_GRACE_SECONDS = 10.0
INSTALLED_MARKER = ".airollout-installed"


class MlflowServerError(RuntimeError):
    """The server's venv could not be made, or the server did not come up."""


def cache_dir_from_env() -> Path:
    cache = os.environ.get("AIROLLOUT_CACHE_DIR") or Path.home() / ".cache" / "airollout"
    return Path(cache)


def server_venv(cache_dir: Path | None = None, version: str = MLFLOW_VERSION) -> Path:
    """The venv holding `mlflow server` at `version`, installed on first use.

    A file lock keeps two test sessions from installing into the same folder at once; the
    marker is written last, so an install cut short is done again rather than trusted.
    """
    root = (cache_dir or cache_dir_from_env()) / f"mlflow-venv-{version}"
    marker = root / INSTALLED_MARKER
    if marker.exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with _locked(root.parent / f".mlflow-venv-{version}.lock"):
        if not marker.exists():
            _install(root, version)
            marker.write_text(f"mlflow=={version}\n")
    return root


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _install(root: Path, version: str) -> None:
    uv = shutil.which("uv")
    if uv is None:
        raise MlflowServerError("the MLflow server's venv needs `uv` on PATH (make install)")
    shutil.rmtree(root, ignore_errors=True)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    environment = {**os.environ, "VIRTUAL_ENV": str(root)}
    for argv in (
        [uv, "venv", "--quiet", "--python", python, str(root)],
        [uv, "pip", "install", "--quiet", f"mlflow=={version}"],
    ):
        done = subprocess.run(argv, env=environment, capture_output=True, text=True)
        if done.returncode != 0:
            raise MlflowServerError(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")


class MlflowServer:
    """`mlflow server` with a sqlite backend and local artifacts under `state_dir`."""

    def __init__(self, venv: Path, state_dir: Path, port: int | None = None) -> None:
        self.venv, self.state_dir = venv, state_dir
        self.port = port or free_loopback_ports(1)[0]
        self.uri = f"http://127.0.0.1:{self.port}"
        self.log_file = state_dir / "mlflow-server.log"
        self._process: subprocess.Popen[bytes] | None = None

    def argv(self) -> list[str]:
        return [
            str(self.venv / "bin" / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{self.state_dir / 'mlflow.db'}",
            "--artifacts-destination",
            str(self.state_dir / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",  # the tests' machine has few cores; one worker serves a test's few calls
        ]

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        environment = {
            **os.environ,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            # No job runner (huey workers): tracking needs none, and it costs CPU at start.
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                self.argv(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                env=environment,
                start_new_session=True,  # its workers go with it when the group is stopped
            )
        self._await_health(timeout)

    def _await_health(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise MlflowServerError(f"mlflow server exited:\n{self.log_tail()}")
            if self._healthy():
                return
            time.sleep(0.3)
        self.stop()
        raise MlflowServerError(f"mlflow server not healthy in {timeout:g}s:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return f"(no log at {self.log_file})"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            process.wait(STOP_GRACE_SECONDS)


@contextlib.contextmanager
def mlflow_server_running(state_dir: Path, cache_dir: Path | None = None) -> Iterator[str]:
    """The tracking URI of a server that lives for the `with` block."""
    server = MlflowServer(server_venv(cache_dir), state_dir)
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()
