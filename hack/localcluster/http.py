"""Just enough HTTP for start-up checks: the apiserver with the admin certificate, and the
health endpoints of etcd, the scheduler and Prometheus. Standard library only, so the harness
starts before any project dependency is installed."""

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

from localcluster.pki import Pki

REQUEST_TIMEOUT_SECONDS = 5.0


def status_of(url: str, context: ssl.SSLContext | None = None) -> int | None:
    """HTTP status of GET url, or None while nothing answers there."""
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT_SECONDS, context=context) as r:
            return int(r.status)
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError):
        return None


def unverified_tls() -> ssl.SSLContext:
    """For the scheduler's /healthz: it serves a self-signed certificate made at start."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class KubeApi:
    """The apiserver as the admin user (system:masters)."""

    def __init__(self, server: str, pki: Pki) -> None:
        self.server = server
        self.context = ssl.create_default_context(cafile=str(pki.ca_cert))
        self.context.load_cert_chain(str(pki.admin_cert), str(pki.key))

    def status(self, path: str) -> int | None:
        return status_of(self.server + path, self.context)

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.server + path, data=data, method=method,
            headers={"Content-Type": content_type, "Accept": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(
                request, timeout=REQUEST_TIMEOUT_SECONDS, context=self.context
            ) as response:
                return int(response.status), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
