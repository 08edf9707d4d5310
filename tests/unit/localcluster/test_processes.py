"""Pid files: processes start, are seen alive, and stop; nothing else is ever signalled."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from localcluster import processes
from localcluster.layout import Layout

pytestmark = pytest.mark.unit

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
        layout.pid_file("etcd").write_text(f"{bystander.pid}\n/opt/bin/etcd\n")
        tracked = processes.read_tracked(layout)

        assert not tracked[0].is_running()
        processes.stop_all(tracked)
        assert bystander.poll() is None, "a process we did not start was killed"
    finally:
        bystander.kill()
        bystander.wait()


def test_stop_all_stops_later_started_processes_first(layout: Layout, tmp_path: Path) -> None:
    order_file = tmp_path / "order"
    script = f"trap 'echo $0 >> {order_file}; exit 0' TERM; while :; do sleep 0.05; done"
    first = processes.start(layout, "first", ["/bin/bash", "-c", script, "first"])
    second = processes.start(layout, "second", ["/bin/bash", "-c", script, "second"])

    # bash -c runs as "/bin/bash -c": its tracked executable is /bin/bash.
    assert first.is_running()
    assert second.is_running()
    assert processes.stop_all(processes.read_tracked(layout)) == []
    assert order_file.read_text().split() == ["second", "first"]
