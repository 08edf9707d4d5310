"""Free loopback ports, chosen by the kernel rather than fixed numbers that may be taken."""

import contextlib
import socket


def free_loopback_ports(count: int) -> list[int]:
    """Return `count` distinct TCP ports that were free on 127.0.0.1 a moment ago.

    All sockets stay bound until every port is picked, so the kernel cannot hand out the
    same port twice; a port can still be taken by another process before we use it, which
    the caller notices as a component that fails to start.
    """
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports
