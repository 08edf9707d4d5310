"""Command lines of the cluster's processes fit together."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localcluster import components, nodes
from localcluster.layout import Layout, Ports
from localcluster.pki import Pki

pytestmark = [pytest.mark.unit, pytest.mark.harness]

BIN = Path("/opt/bin")
PORTS = Ports.from_list(list(range(20001, 20001 + Ports.count())))
LISTEN_FLAGS = re.compile(
    r"^--(listen-client-urls|listen-peer-urls|secure-port|server-address|web\.listen-address)="
)


@pytest.fixture
def commands(tmp_path: Path) -> dict[str, list[str]]:
    layout = Layout(tmp_path / "state")
    pki = Pki.under(layout.pki)
    return {
        "etcd": components.etcd_command(BIN, layout, PORTS),
        "kube-apiserver": components.apiserver_command(BIN, layout, PORTS, pki),
        "kube-controller-manager": components.controller_manager_command(BIN, layout, PORTS, pki),
        "kube-scheduler": components.scheduler_command(BIN, layout, PORTS),
        "kwok": components.kwok_command(BIN, layout, PORTS),
        "prometheus": components.prometheus_command(BIN, layout, PORTS),
    }


def _flag(argv: list[str], name: str) -> str:
    values = [arg.split("=", 1)[1] for arg in argv if arg.startswith(f"--{name}=")]
    assert len(values) == 1, f"--{name} given {len(values)} times in {argv}"
    return values[0]


def test_every_picked_port_is_listened_on_by_exactly_one_flag(
    commands: dict[str, list[str]],
) -> None:
    listened = [
        int(arg.rsplit(":", 1)[-1].split("=")[-1])
        for argv in commands.values()
        for arg in argv
        if LISTEN_FLAGS.match(arg)
    ]
    assert sorted(listened) == sorted(vars(PORTS).values())


def test_nothing_listens_beyond_loopback(commands: dict[str, list[str]]) -> None:
    addresses = [
        arg
        for argv in commands.values()
        for arg in argv
        if re.match(r"^--[\w.-]*(address|listen|urls)[\w.-]*=", arg)
    ]
    assert addresses
    for arg in addresses:
        assert "127.0.0.1" in arg, arg


def test_apiserver_reaches_etcd_where_etcd_advertises_itself(
    commands: dict[str, list[str]],
) -> None:
    etcd_url = _flag(commands["etcd"], "advertise-client-urls")
    assert _flag(commands["kube-apiserver"], "etcd-servers") == etcd_url


def test_every_file_a_component_writes_or_reads_lives_in_the_state_dir_or_bin_dir(
    commands: dict[str, list[str]], tmp_path: Path
) -> None:
    for argv in commands.values():
        assert Path(argv[0]).parent == BIN
        for arg in argv[1:]:
            value = arg.split("=", 1)[-1]
            if value.startswith("/") and "allow-paths" not in arg:
                assert Path(value).is_relative_to(tmp_path / "state"), arg


def test_kwok_manages_the_nodes_the_cluster_creates(commands: dict[str, list[str]]) -> None:
    selector = _flag(commands["kwok"], "manage-nodes-with-annotation-selector")
    key, value = selector.split("=")
    node = nodes.kwok_node(nodes.kwok_node_name(0))

    assert node["metadata"]["annotations"][key] == value
    assert _flag(commands["kwok"], "manage-all-nodes") == "false"


def test_kwok_keeps_node_leases_long_enough_that_nodes_stay_ready(
    commands: dict[str, list[str]],
) -> None:
    assert int(_flag(commands["kwok"], "node-lease-duration-seconds")) >= 40


def test_fake_nodes_carry_no_taint_so_plain_deployments_schedule_there() -> None:
    node = nodes.kwok_node("kwok-node-0")
    assert "taints" not in node.get("spec", {})
    assert node["metadata"]["name"].startswith(nodes.KWOK_NODE_PREFIX)


@pytest.mark.parametrize(
    ("conditions", "ready"),
    [
        ([{"type": "Ready", "status": "True"}], True),
        ([{"type": "Ready", "status": "False"}], False),
        ([{"type": "MemoryPressure", "status": "True"}], False),
        (None, False),
    ],
)
def test_node_is_ready_only_with_a_true_ready_condition(
    conditions: list[dict[str, str]] | None, ready: bool
) -> None:
    assert nodes.is_ready({"status": {"conditions": conditions}}) is ready
