"""`/healthz` and `/readyz` on their own port, served from a thread.

healthz: the operator's event loop is alive (it beats every second; a loop stuck for
`stall_seconds` fails the probe, so the kubelet restarts the pod).
readyz: healthz, and either leading with kopf's watches started, or standing by with a
Lease loop that read the Lease within `stale_seconds`.

The thread only reads what the loop writes, so a wedged loop cannot hide behind it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger("airollout.controller")


@dataclass
class HealthState:
    """Monotonic times the loop and the Lease loop write; None: never happened."""

    stall_seconds: float = 10.0
    stale_seconds: float = 15.0
    beat: float | None = None
    lease_seen: float | None = None  # the last successful read or write of the Lease
    leading: bool = False
    watching: bool = False  # kopf reported its watches started (its ready flag)
    electing: bool = False  # a Lease loop runs (--leader-elect)

    def healthy(self, now: float) -> bool:
        return self.beat is not None and now - self.beat <= self.stall_seconds

    def ready(self, now: float) -> bool:
        if not self.healthy(now):
            return False
        if self.leading or not self.electing:
            return self.watching
        return self.lease_seen is not None and now - self.lease_seen <= self.stale_seconds

    def describe(self, now: float) -> str:
        role = "leader" if self.leading or not self.electing else "standby"
        return f"{role}, healthy={self.healthy(now)}, ready={self.ready(now)}"


def serve(
    state: HealthState, port: int, address: str, clock: Callable[[], float] = time.monotonic
) -> ThreadingHTTPServer:
    """Start answering on address:port (0 picks a free port: see `.server_port`)."""

    class Probe(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            checks = {"/healthz": state.healthy, "/readyz": state.ready}
            check = checks.get(self.path.split("?")[0])
            if check is None:
                self.send_error(404)
                return
            now = clock()
            ok = check(now)
            body = f"{'ok' if ok else 'failing'}: {state.describe(now)}\n".encode()
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # a probe every few seconds is not news

    server = ThreadingHTTPServer((address, port), Probe)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    log.info("health probes on http://%s:%d/healthz and /readyz", address, server.server_port)
    return server
