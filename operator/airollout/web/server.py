"""`POST /v1/analysis` over HTTP, served from a thread beside the operator's loop.

Only glue: the bearer token is checked (in constant time) before the body is even read,
then the body goes to `parse_request` and the request to `AnalysisService`. The endpoint
runs PromQL and may call a paid LLM, so nothing is answered without the token.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from airollout.web.analyze import AnalysisService
from airollout.web.evidence import EvidenceConflictError
from airollout.web.request import RequestError, parse_request

log = logging.getLogger("airollout.web")

PATH = "/v1/analysis"
MAX_BODY_BYTES = 1024 * 1024


def authorized(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def serve(service: AnalysisService, token: str, port: int, address: str) -> ThreadingHTTPServer:
    """Start answering on address:port (0 picks a free port: see `.server_port`)."""
    if not token:
        raise ValueError("the analysis endpoint needs a bearer token")

    class Analysis(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.split("?")[0] != PATH:
                self._answer(404, {"error": f"not found; POST {PATH}"})
            elif not authorized(self.headers.get("Authorization"), token):
                self._answer(401, {"error": "Authorization: Bearer <token> required"})
            else:
                self._answer(*_handle(service, self._body()))

        def do_GET(self) -> None:
            self._answer(405 if self.path.split("?")[0] == PATH else 404, {"error": f"POST {PATH}"})

        def _body(self) -> bytes | None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                return None
            return self.rfile.read(length)

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            if status == 401:
                self.send_header("WWW-Authenticate", "Bearer")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s %s", self.address_string(), format % args)

    server = ThreadingHTTPServer((address, port), Analysis)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="analysis", daemon=True).start()
    log.info("analysis endpoint on http://%s:%d%s", address, server.server_port, PATH)
    return server


def _handle(service: AnalysisService, raw: bytes | None) -> tuple[int, dict[str, Any]]:
    """The status and JSON answer for one authorized body."""
    if raw is None:
        return 413, {"error": f"body: larger than {MAX_BODY_BYTES} bytes"}
    try:
        request = parse_request(json.loads(raw or b"null"))
    except json.JSONDecodeError as error:
        return 400, {"error": f"body: not JSON ({error})"}
    except RequestError as invalid:
        return 400, {"error": str(invalid), "errors": [str(e) for e in invalid.errors]}
    try:
        return 200, service.analyze(request).to_json()
    except EvidenceConflictError as error:
        return 409, {"error": f"another call judged this window first ({error}); ask again"}
    except Exception as error:  # Argo counts an error measurement; the operator keeps running
        log.exception("%s/%s: the analysis failed", request.namespace, request.rollout)
        return 500, {"error": f"{type(error).__name__}: {error}"}
