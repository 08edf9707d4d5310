"""`hack/demo.sh`, run as `make demo` runs it: a healthy rollout promoted, a failing one
rolled back, and nothing of the demo left running afterwards, also after a Ctrl-C.

The demo starts a local cluster of its own (it needs the binaries `make tools` caches), so
these tests run only with AIROLLOUT_CLUSTER unset or `local`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("AIROLLOUT_CLUSTER", "local") != "local",
        reason="the demo always starts its own local cluster",
    ),
]

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "hack" / "demo.sh"
DEMO_SECONDS = 240  # the demo's own budget is five minutes; a passing run takes about two


def interruptible() -> None:
    """Run in the child before exec: a terminal's demo is interruptible, whoever runs pytest.

    A test run started in the background of a non-interactive shell inherits SIGINT ignored,
    and bash can neither trap nor reset a signal ignored at its start.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def demo_environment(demo_dir: Path) -> dict[str, str]:
    return {**os.environ, "AIROLLOUT_DEMO_DIR": str(demo_dir)}


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that name `text` (the demo's directory)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # exited while we looked
        if text in argv:
            found.append(argv)
    return found


def assert_nothing_left(demo_dir: Path) -> None:
    # The workloads and the operator name the demo's kubeconfig; every cluster process names
    # its state directory: all of them live under demo_dir.
    assert processes_mentioning(str(demo_dir)) == []
    assert not (demo_dir / "cluster").exists(), "the cluster's state is removed"
    assert (demo_dir / "logs" / "operator.log").exists(), "the operator's log is kept"


def test_the_demo_promotes_the_healthy_canary_and_rolls_back_the_failing_one(
    tmp_path: Path,
) -> None:
    demo = subprocess.run(
        [str(DEMO)],
        env=demo_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=DEMO_SECONDS,
        cwd=REPO,
    )

    output = demo.stdout + demo.stderr
    assert demo.returncode == 0, output
    assert "AIRollout demo-good/web-v2 ended Succeeded" in output
    assert "AIRollout demo-bad/web-v2 ended RolledBack" in output
    assert "PROCEED" in output, "watch shows each verdict"
    assert "ROLLBACK" in output
    assert "Rollback at 10 %: canary error rate" in output, "and its one-line summary"
    assert "DEMO PASSED" in output
    assert_nothing_left(tmp_path)


def test_ctrl_c_during_a_rollout_stops_the_operator_the_workloads_and_the_cluster(
    tmp_path: Path,
) -> None:
    log = tmp_path / "demo-output.txt"
    with log.open("w") as output:
        # A session of its own, so the SIGINT below reaches the whole demo, as a terminal's
        # Ctrl-C reaches the foreground process group, and nothing of this test.
        demo = subprocess.Popen(
            [str(DEMO)],
            env=demo_environment(tmp_path),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=interruptible,
            cwd=REPO,
        )
    try:
        deadline = time.monotonic() + DEMO_SECONDS
        while "rollout 1 of 2" not in log.read_text() and demo.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        time.sleep(3)  # into the rollout, with the operator and the workloads running
        os.killpg(demo.pid, signal.SIGINT)
        returncode = demo.wait(60)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)

    text = log.read_text()
    assert returncode == 130, text
    assert "cleaning up" in text
    assert "DEMO PASSED" not in text
    assert_nothing_left(tmp_path)
