"""The kubelet's HTTPS endpoint for `kubectl logs`: the apiserver asks the node's address
and port (status.daemonEndpoints) for /containerLogs/<namespace>/<pod>/<container>.

The certificate is self-signed: the apiserver verifies a kubelet only when it is given
--kubelet-certificate-authority, which the local cluster does not pass.
"""

import http.server
import ssl
import subprocess
import threading
import urllib.parse
from pathlib import Path

from localcluster.podrunner_node import NODE_IP


def _self_signed(directory: Path, node: str) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "kubelet.crt", directory / "kubelet.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "365", "-subj", f"/CN={node}",
         "-addext", f"subjectAltName=IP:{NODE_IP}"],
        capture_output=True, check=True,
    )  # fmt: skip
    return cert, key


def container_log(
    logs_dir: Path, namespace: str, pod: str, container: str, previous: bool
) -> Path | None:
    """The newest run's log file of the container (the one before it with `previous`)."""
    runs = [
        path
        for folder in logs_dir.glob(f"{namespace}_{pod}_*")
        for path in (folder / container).glob("*.log")
        if path.stem.isdigit()
    ]
    runs.sort(key=lambda path: (path.parent.parent.stat().st_mtime, int(path.stem)))
    index = -2 if previous else -1
    return runs[index] if len(runs) >= -index else None


def _tail(data: bytes, lines: str | None) -> bytes:
    if not lines or not lines.isdigit():
        return data
    return b"".join(data.splitlines(keepends=True)[-int(lines) :]) if int(lines) else b""


class _Handler(http.server.BaseHTTPRequestHandler):
    logs_dir: Path

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if url.path == "/healthz":
            self._answer(200, b"ok")
            return
        if len(parts) != 4 or parts[0] != "containerLogs":
            self._answer(404, b"not found: the pod runner serves /containerLogs only\n")
            return
        query = urllib.parse.parse_qs(url.query)
        previous = query.get("previous", ["false"])[0] == "true"
        found = container_log(self.logs_dir, parts[1], parts[2], parts[3], previous)
        if found is None:
            self._answer(404, f"no log of container {parts[3]} in pod {parts[2]}\n".encode())
            return
        self._answer(200, _tail(found.read_bytes(), query.get("tailLines", [None])[0]))

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return  # every request in the runner's log would drown what matters


def serve_logs(logs_dir: Path, cert_dir: Path, node: str) -> http.server.ThreadingHTTPServer:
    """Start the server on a free loopback port, in a daemon thread; `.server_port` says
    which."""
    handler = type("LogHandler", (_Handler,), {"logs_dir": logs_dir})
    server = http.server.ThreadingHTTPServer((NODE_IP, 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_self_signed(cert_dir, node))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="kubelet logs", daemon=True).start()
    return server
