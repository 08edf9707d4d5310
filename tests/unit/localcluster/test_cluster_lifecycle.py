"""up/down/read_running decide right without a real control plane: fake binaries stand in."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from localcluster import cluster, processes
from localcluster.layout import Layout

pytestmark = [pytest.mark.unit, pytest.mark.harness]

LOOP_FOREVER = "#!/bin/sh\nwhile :; do sleep 0.05; done\n"


def _fake_bin_dir(path: Path, etcd_script: str) -> Path:
    path.mkdir()
    for name in cluster.REQUIRED_BINARIES:
        script = path / name
        script.write_text(etcd_script if name == "etcd" else LOOP_FOREVER)
        script.chmod(0o755)
    return path


def test_up_without_built_binaries_names_them_and_the_build_command(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    with pytest.raises(cluster.ClusterError, match=r"missing etcd, kube-apiserver.*build-tools"):
        cluster.up(tmp_path / "state", tmp_path / "bin")


def test_component_that_crashes_at_start_fails_up_at_once_with_its_log(tmp_path: Path) -> None:
    crashing_etcd = (
        "#!/bin/sh\necho 'listen tcp 127.0.0.1: bind: address already in use' >&2\nexit 1\n"
    )
    bin_dir = _fake_bin_dir(tmp_path / "bin", crashing_etcd)
    state = tmp_path / "state"

    with pytest.raises(cluster.ClusterError) as failure:
        cluster.up(state, bin_dir, timeout=60)

    message = str(failure.value)
    # Named as an exit, not as "timed out after ...": up() saw the crash, not the deadline.
    assert message.startswith("etcd exited while waiting for etcd to be healthy")
    assert "address already in use" in message
    survivors = [p.name for p in processes.read_tracked(Layout(state)) if p.is_running()]
    assert survivors == [], "processes started before the crash are stopped"


def test_up_refuses_a_second_cluster_in_the_same_directory(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "state")
    layout.make_dirs()
    running = processes.start(layout, "etcd", ["/bin/sleep", "60"])
    layout.info_file.write_text("{}")
    try:
        with pytest.raises(cluster.ClusterError, match="already running"):
            cluster.up(layout.root, _fake_bin_dir(tmp_path / "bin", LOOP_FOREVER))
        assert running.is_running()
    finally:
        processes.stop_all([running])


def test_read_running_names_a_component_that_died(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "state")
    layout.make_dirs()
    dead = processes.start(layout, "kube-scheduler", ["/bin/sh", "-c", "echo 'fatal: gone'"])
    layout.info_file.write_text("{}")
    deadline = time.monotonic() + 5
    while dead.is_running() and time.monotonic() < deadline:
        time.sleep(0.01)

    with pytest.raises(cluster.ClusterError, match=r"kube-scheduler \(pid \d+\).*not running"):
        cluster.read_running(layout.root)


def test_down_twice_reports_nothing_to_stop_the_second_time(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "state")
    layout.make_dirs()
    running = processes.start(layout, "kwok", ["/bin/sleep", "60"])

    assert cluster.down(layout.root).startswith("stopped kwok")
    assert not running.is_running()
    assert not layout.root.exists()
    assert "nothing to stop" in cluster.down(layout.root)


def test_down_never_deletes_a_directory_that_is_not_a_cluster(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")

    with pytest.raises(cluster.ClusterError, match="not a cluster state directory"):
        cluster.down(precious)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_exports_quote_paths_for_eval(tmp_path: Path) -> None:
    info = cluster.ClusterInfo(
        state_dir=tmp_path,
        kubeconfig=tmp_path / "dir with space" / "kubeconfig",
        apiserver_url="https://127.0.0.1:1",
        prometheus_url="http://127.0.0.1:2",
        scrape_targets=tmp_path,
        bin_dir=tmp_path / "bin",
    )
    lines = info.exports().splitlines()
    assert lines[0] == f"export KUBECONFIG='{tmp_path}/dir with space/kubeconfig'"
    assert lines[1] == "export PROMETHEUS_URL=http://127.0.0.1:2"
    assert cluster.ClusterInfo.load(_saved(info, tmp_path)) == info


def _saved(info: cluster.ClusterInfo, directory: Path) -> Path:
    path = directory / "cluster.json"
    info.save(path)
    return path
