"""Port picking: distinct loopback ports that can be bound right after."""

from __future__ import annotations

import socket

import pytest

from localcluster.ports import free_loopback_ports

pytestmark = [pytest.mark.unit, pytest.mark.harness]


def test_picked_ports_are_distinct_and_bindable_on_loopback() -> None:
    ports = free_loopback_ports(7)

    assert len(set(ports)) == 7
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))
