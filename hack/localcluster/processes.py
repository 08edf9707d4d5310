"""Start, check and stop the cluster's processes through pid files.

A pid file holds the pid, the executable it was started as, and when. `stop` signals only a
process this code started (after a reboot or a crash the pid may belong to something else),
newest first.
"""

import contextlib
import ctypes
import dataclasses
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from localcluster.layout import Layout

TERM_GRACE_SECONDS = 15.0
KILL_GRACE_SECONDS = 5.0
EXEC_WAIT_SECONDS = 2.0
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclasses.dataclass(frozen=True)
class Tracked:
    """A process started by this package, as recorded in its pid file."""

    name: str
    pid: int
    executable: str
    log_file: Path

    def is_running(self) -> bool:
        return _process_matches(self.pid, self.executable)

    def log_tail(self, lines: int = 15) -> str:
        return tail(self.log_file, lines)


def tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def _process_matches(pid: int, executable: str) -> bool:
    """True when `pid` is alive (not a zombie) and was started as `executable`."""
    proc = Path("/proc") / str(pid)
    try:
        cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        # The state letter follows the parenthesised command name, which may hold spaces.
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    # A script runs as "<interpreter> <script>": its path is then the second argument.
    started_as = [arg.decode(errors="replace") for arg in cmdline[:2]]
    return state != "Z" and executable in started_as


def _terminate_with_parent() -> None:
    """Runs in the child before exec: ask the kernel for SIGTERM when the parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(
    layout: Layout,
    name: str,
    argv: list[str],
    die_with_parent: bool = False,
    env: Mapping[str, str] | None = None,
) -> Tracked:
    log_file = layout.log_file(name)
    with log_file.open("ab") as log:
        # A session of its own: Ctrl-C in the shell that ran `up` must not reach the cluster,
        # and `eval "$(cluster.sh up)"` returns because no child holds its stdout.
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=layout.root,
            start_new_session=True,
            preexec_fn=_terminate_with_parent if die_with_parent else None,
            env={**os.environ, **env} if env else None,
        )
    # The start time orders the stop: file mtimes are too coarse for processes started
    # within a few milliseconds of each other.
    layout.pid_file(name).write_text(f"{process.pid}\n{argv[0]}\n{time.time_ns()}\n")
    _await_exec(process, argv[0])
    return Tracked(name, process.pid, argv[0], log_file)


def _await_exec(process: subprocess.Popen[bytes], executable: str) -> None:
    """Popen may return while the child is still switching to the new program, when /proc
    does not show its command line yet; wait for it so liveness checks do not misfire."""
    deadline = time.monotonic() + EXEC_WAIT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if _process_matches(process.pid, executable):
            return
        time.sleep(0.01)


def read_tracked(layout: Layout) -> list[Tracked]:
    """Every process with a pid file, in start order."""
    started = []
    for pid_file in layout.pids.glob("*.pid"):
        lines = pid_file.read_text().splitlines()
        if len(lines) < 3 or not (lines[0].isdigit() and lines[2].isdigit()):
            continue
        name = pid_file.stem
        process = Tracked(name, int(lines[0]), lines[1], layout.log_file(name))
        started.append((int(lines[2]), process))
    return [process for _, process in sorted(started, key=lambda pair: pair[0])]


def _reap(pid: int) -> None:
    """Collect the exit status when the process is our own child, so it leaves no zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _signal_all(processes: Iterable[Tracked], signum: int) -> None:
    for process in processes:
        if process.is_running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signum)


def _wait_exited(processes: list[Tracked], timeout: float) -> list[Tracked]:
    deadline = time.monotonic() + timeout
    alive = processes
    while alive and time.monotonic() < deadline:
        for process in alive:
            _reap(process.pid)
        alive = [p for p in alive if p.is_running()]
        if alive:
            time.sleep(0.1)
    return alive


def stop_all(processes: list[Tracked]) -> list[Tracked]:
    """Stop processes one by one in reverse start order; returns those that survived.

    Clients go before what they depend on: the apiserver stops in about a second once its
    clients are gone, but waits out any grace period while etcd is already down.
    """
    survivors = []
    for process in reversed(processes):
        _signal_all([process], signal.SIGTERM)
        alive = _wait_exited([process], TERM_GRACE_SECONDS)
        _signal_all(alive, signal.SIGKILL)
        survivors += _wait_exited(alive, KILL_GRACE_SECONDS)
    return survivors
