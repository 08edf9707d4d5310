"""The pod runner's client of the apiserver: the admin certificate, merge patches, and
watches read line by line. Standard library only, like the rest of the harness."""

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from localcluster.http import REQUEST_TIMEOUT_SECONDS, KubeApi

MERGE_PATCH = "application/merge-patch+json"
# The server ends each watch after this long; the runner then lists again and resumes.
WATCH_SECONDS = 120


class ApiError(RuntimeError):
    """The apiserver answered with an unexpected status; `status` holds it."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} answered HTTP {status}: {str(body)[:300]}")
        self.status = status


def now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def now_micro() -> str:
    """A MicroTime, as a Lease's renewTime wants it."""
    seconds = time.time()
    micros = int((seconds % 1) * 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


class RunnerApi(KubeApi):
    """The apiserver as the admin user, with the verbs a kubelet needs."""

    def ok(self, method: str, path: str, body: Any = None, allow: tuple[int, ...] = ()) -> Any:
        """The answer's body when the status is 2xx or in `allow`; ApiError otherwise."""
        content_type = MERGE_PATCH if method == "PATCH" else "application/json"
        status, answer = self.request(method, path, body, content_type)
        if 200 <= status < 300 or status in allow:
            return answer
        raise ApiError(method, path, status, answer)

    def watch(self, path: str, resource_version: str) -> Iterator[dict[str, Any]]:
        """The events of a watch on `path` (which may hold a query) from `resource_version`."""
        query = urllib.parse.urlencode(
            {"watch": "1", "resourceVersion": resource_version, "timeoutSeconds": WATCH_SECONDS}
        )
        separator = "&" if "?" in path else "?"
        request = urllib.request.Request(
            f"{self.server}{path}{separator}{query}", headers={"Accept": "application/json"}
        )
        with urllib.request.urlopen(
            request, timeout=WATCH_SECONDS + REQUEST_TIMEOUT_SECONDS, context=self.context
        ) as response:
            for line in response:
                if line.strip():
                    yield json.loads(line)
