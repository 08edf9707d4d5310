"""Pid files: processes start, are seen alive, and stop; nothing else is ever signalled."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localcluster import processes
from localcluster.layout import Layout

pytestmark = [pytest.mark.unit, pytest.mark.harness]

SLEEP = "/bin/sleep"


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path)
    layout.make_dirs()
    return layout


def test_started_process_is_tracked_running_and_stopped_by_stop_all(layout: Layout) -> None:
    started = processes.start(layout, "sleeper", [SLEEP, "60"])

    tracked = processes.read_tracked(layout)
    assert [(t.name, t.pid) for t in tracked] == [("sleeper", started.pid)]
    assert started.is_running()

    assert processes.stop_all(tracked) == []
    assert not started.is_running()


def test_exited_process_counts_as_not_running_and_its_log_tail_is_readable(
    layout: Layout,
) -> None:
    started = processes.start(layout, "failing", ["/bin/sh", "-c", "echo boom >&2; exit 3"])
    deadline = time.monotonic() + 5
    # Not reaped: the child stays a zombie, which must still count as exited.
    while started.is_running() and time.monotonic() < deadline:
        time.sleep(0.01)

    assert not started.is_running()
    assert started.log_tail() == "boom"


def test_pid_recorded_for_another_executable_is_never_signalled(layout: Layout) -> None:
    # A pid file left from an earlier boot may name a pid now used by something else.
    bystander = subprocess.Popen([SLEEP, "60"])
    try:
        layout.pid_file("etcd").write_text(f"{bystander.pid}\n/opt/bin/etcd\n{time.time_ns()}\n")
        tracked = processes.read_tracked(layout)

        assert not tracked[0].is_running()
        processes.stop_all(tracked)
        assert bystander.poll() is None, "a process we did not start was killed"
    finally:
        bystander.kill()
        bystander.wait()


def test_stop_all_stops_later_started_processes_first(layout: Layout, tmp_path: Path) -> None:
    order_file = tmp_path / "order"
    script = (
        f"trap 'echo $0 >> {order_file}; exit 0' TERM; touch {tmp_path}/$0.trapping; "
        "while :; do sleep 0.05; done"
    )
    first = processes.start(layout, "first", ["/bin/bash", "-c", script, "first"])
    second = processes.start(layout, "second", ["/bin/bash", "-c", script, "second"])
    deadline = time.monotonic() + 5
    while len(list(tmp_path.glob("*.trapping"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)

    # bash -c runs as "/bin/bash -c": its tracked executable is /bin/bash.
    assert first.is_running()
    assert second.is_running()
    assert processes.stop_all(processes.read_tracked(layout)) == []
    assert order_file.read_text().split() == ["second", "first"]


def test_process_started_to_die_with_its_parent_goes_when_the_parent_is_killed(
    layout: Layout,
) -> None:
    # The parent is a separate Python process, so the test can kill it as a CI timeout would.
    parent_code = (
        "import sys; from pathlib import Path; from localcluster import processes; "
        "from localcluster.layout import Layout; "
        "t = processes.start(Layout(Path(sys.argv[1])), 'orphan', ['/bin/sleep', '60'], "
        "die_with_parent=True); print(t.pid, flush=True); sys.stdin.read()"
    )
    hack_dir = Path(processes.__file__).parents[1]
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code, str(layout.root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(hack_dir)},
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    child = processes.read_tracked(layout)[0]
    assert child.pid == child_pid
    assert child.is_running()

    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while child.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    orphaned = child.is_running()
    processes.stop_all([child])
    assert not orphaned
