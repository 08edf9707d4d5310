"""The Kubernetes I/O behind the rollout commands: one AIRollout, read, patched or watched.

Every failure leaves here as a `CommandError` with one readable line, so the commands can
print it and exit 1 without a traceback.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import urllib3
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from airollout.core.resource.crd import GROUP, KIND, PLURAL, VERSION

REQUEST_TIMEOUT_S = 15.0
WATCH_CHUNK_S = 300  # the apiserver ends each watch after this; we re-establish it
RECONNECT_PAUSE_S = 2.0

Manifest = dict[str, Any]

# The kubernetes package ships py.typed, yet its config and watch helpers are unannotated.
kube_config: Any = config
kube_watch: Any = watch


class CommandError(Exception):
    """A failure a person can act on, said in one line."""


class NotFoundError(CommandError):
    pass


class RolloutConflictError(CommandError):
    """The object changed since it was read (a resourceVersion precondition failed)."""


@dataclass(frozen=True)
class RolloutRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class Rollouts:
    """AIRollouts through the custom objects API, with errors turned into CommandError."""

    def __init__(self, api: client.ApiClient) -> None:
        self._api = client.CustomObjectsApi(api)
        self._host = api.configuration.host

    def get(self, ref: RolloutRef) -> Manifest:
        with _translated_errors(ref, self._host):
            found = self._api.get_namespaced_custom_object(
                GROUP, VERSION, ref.namespace, PLURAL, ref.name, _request_timeout=REQUEST_TIMEOUT_S
            )
        return cast(Manifest, found)

    def merge_patch(self, ref: RolloutRef, patch: Mapping[str, Any]) -> Manifest:
        with _translated_errors(ref, self._host):
            patched = self._api.patch_namespaced_custom_object(
                GROUP,
                VERSION,
                ref.namespace,
                PLURAL,
                ref.name,
                dict(patch),
                _content_type="application/merge-patch+json",
                _request_timeout=REQUEST_TIMEOUT_S,
            )
        return cast(Manifest, patched)

    def follow(
        self, ref: RolloutRef, deadline: float, notify: Callable[[str], None]
    ) -> Iterator[Manifest]:
        """The rollout now, then each version of it until `deadline` (time.monotonic()).

        The watch is re-established when the apiserver ends it, when its resource version
        expires (410: read afresh and go on), and after connection errors (retried until the
        deadline, since a watch outlives a restarting apiserver).
        """
        current = self.get(ref)
        yield current
        version = current["metadata"]["resourceVersion"]
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                for snapshot in self._watch(ref, version, remaining):
                    version = snapshot["metadata"]["resourceVersion"]
                    yield snapshot
            except WatchExpiredError:
                current = self.get(ref)
                version = current["metadata"]["resourceVersion"]
                yield current
            except WatchInterruptedError as interruption:
                notify(f"watch interrupted ({interruption.__cause__}); reconnecting")
                time.sleep(min(RECONNECT_PAUSE_S, max(0.0, deadline - time.monotonic())))

    def _watch(self, ref: RolloutRef, version: str, remaining: float) -> Iterator[Manifest]:
        seconds = max(1, math.ceil(min(remaining, WATCH_CHUNK_S)))
        stream = kube_watch.Watch().stream(
            self._api.list_namespaced_custom_object,
            GROUP,
            VERSION,
            ref.namespace,
            PLURAL,
            field_selector=f"metadata.name={ref.name}",
            resource_version=version,
            timeout_seconds=seconds,
            _request_timeout=(REQUEST_TIMEOUT_S, seconds + REQUEST_TIMEOUT_S),
        )
        try:
            for event in stream:
                if event["type"] == "DELETED":
                    raise NotFoundError(f"{KIND} {ref} was deleted while being watched")
                if event["type"] in ("ADDED", "MODIFIED"):
                    yield event["raw_object"]
        except ApiException as error:
            if error.status == 410:
                raise WatchExpiredError from error
            if error.status is not None and (error.status >= 500 or error.status == 429):
                raise WatchInterruptedError from error
            raise CommandError(api_error_line(error)) from error
        except urllib3.exceptions.HTTPError as error:
            raise WatchInterruptedError from error


class WatchExpiredError(Exception):
    """The watch's resource version is too old: read the object afresh."""


class WatchInterruptedError(Exception):
    """The watch broke off (network, apiserver restart): try again shortly."""


@contextmanager
def _translated_errors(ref: RolloutRef, host: str) -> Iterator[None]:
    try:
        yield
    except ApiException as error:
        if error.status == 404:
            raise NotFoundError(f"{KIND} {ref} not found") from error
        if error.status == 409:
            raise RolloutConflictError(api_error_line(error)) from error
        raise CommandError(api_error_line(error)) from error
    except urllib3.exceptions.HTTPError as error:
        reason = one_line(str(getattr(error, "reason", None) or error))
        raise CommandError(f"cannot reach the cluster at {host}: {reason}") from error


def api_error_line(error: ApiException) -> str:
    """The apiserver's own message (it names the user and verb on a 403), in one line."""
    message = ""
    try:
        message = json.loads(error.body or "{}").get("message", "")
    except (ValueError, AttributeError):
        message = ""
    detail = message or error.reason or "no detail"
    return f"the API server answered {error.status}: {one_line(str(detail))}"


def one_line(text: str) -> str:
    """`text` with its line breaks and runs of spaces as single spaces."""
    return " ".join(text.split())
