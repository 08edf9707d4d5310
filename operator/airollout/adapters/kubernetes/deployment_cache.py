"""Deployments as a watch keeps them: reads without a GET per reconcile.

The router and the pod reader look at a rollout's target and its canary on every tick; at
hundreds of rollouts those GETs queue on the API server that the status writes need. A
namespace is watched from the first time one of its Deployments is asked for (one list,
then a watch from that list's resourceVersion), so the operator holds only the namespaces
its rollouts live in. Until that list has arrived, or while the watch is broken, a lookup
says "not known" and the caller GETs as before.

A cached object can be a little old. That is safe because every write the router makes
from a read either carries the read's resourceVersion (a stale read is a 409 and a retry)
or sets an absolute value computed from the rollout's own record (writing it again changes
nothing). What a write returns is stored at once, so the next tick does not act on the
state before it.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import client
from kubernetes import watch as _watch

log = logging.getLogger("airollout.controller")

Deployment = dict[str, Any]
GROUP, VERSION, PLURAL = "apps", "v1", "deployments"
# The apiserver ends each watch after this long; the loop then watches on from where it was.
WATCH_SECONDS = 300
RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
watch: Any = _watch  # untyped module: one Any rather than an ignore per call
# UIDs of deleted Deployments remembered per namespace, so a write's answer that arrives
# after the watch saw the object go cannot bring it back.
TOMBSTONES_KEPT = 256


@dataclass
class _Namespace:
    synced: bool = False
    items: dict[str, Deployment] = field(default_factory=dict)
    deleted: deque[str] = field(default_factory=lambda: deque(maxlen=TOMBSTONES_KEPT))


class DeploymentCache:
    """Every Deployment of the namespaces asked about, kept by one watch per namespace."""

    def __init__(
        self,
        api_client: client.ApiClient,
        watch_seconds: int = WATCH_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        # Its own client: a watch holds a pooled connection for minutes, and the reconciles'
        # pool is sized for their requests.
        own = client.ApiClient(api_client.configuration)
        own.default_headers.update(api_client.default_headers)  # the same user (impersonation)
        self._objects = client.CustomObjectsApi(own)
        self._watch_seconds, self._retry_seconds = watch_seconds, retry_seconds
        self._lock = threading.Lock()
        self._namespaces: dict[str, _Namespace] = {}
        self._stopping = threading.Event()
        self._watches: list[Any] = []  # the watch streams running, stopped by close()

    def lookup(self, namespace: str, name: str) -> tuple[bool, Deployment | None]:
        """(known, the Deployment or None when it does not exist); (False, None) until the
        namespace's first list has arrived or while its watch is broken. A copy: callers
        edit what they read before writing it."""
        with self._lock:
            space = self._watched(namespace)
            if not space.synced:
                return False, None
            found = space.items.get(name)
        return True, _copy(found) if found is not None else None

    def watch(self, namespace: str) -> None:
        """Start following `namespace` now, rather than at its first lookup."""
        with self._lock:
            self._watched(namespace)

    def _watched(self, namespace: str) -> _Namespace:
        space = self._namespaces.get(namespace)
        if space is None:
            self._namespaces[namespace] = space = _Namespace()
            self._start(namespace)
        return space

    def store(self, deployment: Deployment) -> None:
        """What a write returned: newer than anything the watch has shown so far."""
        metadata = deployment.get("metadata") or {}
        with self._lock:
            space = self._namespaces.get(metadata.get("namespace", ""))
            if space is not None and space.synced and metadata.get("uid") not in space.deleted:
                _keep_newer(space.items, _held(_copy(deployment)))

    def synced(self, namespace: str) -> bool:
        with self._lock:
            space = self._namespaces.get(namespace)
            return space is not None and space.synced

    def close(self) -> None:
        """Stop watching; the cache keeps what it holds and applies no further event."""
        self._stopping.set()
        with self._lock:
            for stream in self._watches:
                stream.stop()

    def _start(self, namespace: str) -> None:
        thread = threading.Thread(
            target=self._follow, args=(namespace,), name=f"deployments-{namespace}", daemon=True
        )
        thread.start()

    def _follow(self, namespace: str) -> None:
        """List, then watch from the list's version; list again after any failure, waiting
        longer after each one in a row (a missing list/watch permission fails every time)."""
        wait = self._retry_seconds
        while not self._stopping.is_set():
            try:
                version: str | None = self._list(namespace)
                wait = self._retry_seconds
                while version is not None and not self._stopping.is_set():
                    version = self._watch(namespace, version)
                continue  # too old to resume (410): list again at once, still synced
            except (client.ApiException, urllib3.exceptions.HTTPError, OSError) as error:
                log.warning(
                    "deployments in %s: watch failed (%s); reads GET, next try in %gs",
                    namespace,
                    _reason(error),
                    wait,
                )
            except Exception:  # never lose the thread: the reads would fall back for good
                log.exception("deployments in %s: watch failed; reads GET", namespace)
            if self._stopping.is_set():
                return  # closed: what is held stays as it was
            self._set_synced(namespace, False)
            self._stopping.wait(wait)
            wait = min(wait * 2, MAX_RETRY_SECONDS)

    def _list(self, namespace: str) -> str:
        listed: Any = self._objects.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        items = {item["metadata"]["name"]: _held(item) for item in listed.get("items", [])}
        with self._lock:
            space = self._namespaces[namespace]
            space.items, space.synced = items, True
        return str(listed["metadata"]["resourceVersion"])

    def _watch(self, namespace: str, version: str) -> str | None:
        """Apply one watch's events; the version to go on from, None to list again."""
        stream = watch.Watch()
        with self._lock:
            self._watches.append(stream)
        try:
            events = stream.stream(
                self._objects.list_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                resource_version=version,
                timeout_seconds=self._watch_seconds,
                allow_watch_bookmarks=True,
                _request_timeout=(10, self._watch_seconds + 30),
            )
            for event in events:
                if self._stopping.is_set():
                    break  # closed: what is held stays as it was
                version = self._apply(namespace, event) or version
        except client.ApiException as error:
            if error.status == 410:  # too old to resume: list again
                return None
            raise
        except urllib3.exceptions.ProtocolError:
            # The connection ended mid-stream: watch on from the last version seen, after a
            # pause in case the server cuts every watch at once.
            self._stopping.wait(self._retry_seconds)
        finally:
            with self._lock:
                self._watches.remove(stream)
        return version

    def _apply(self, namespace: str, event: dict[str, Any]) -> str | None:
        obj: Deployment = event.get("object") or {}
        kind, version = event.get("type"), obj.get("metadata", {}).get("resourceVersion")
        with self._lock:
            space = self._namespaces[namespace]
            if kind in ("ADDED", "MODIFIED"):
                _keep_newer(space.items, _held(obj))
            elif kind == "DELETED":
                space.items.pop(obj["metadata"]["name"], None)
                space.deleted.append(obj["metadata"].get("uid", ""))
        return str(version) if version else None

    def _set_synced(self, namespace: str, synced: bool) -> None:
        with self._lock:
            self._namespaces[namespace].synced = synced


def _reason(error: Exception) -> str:
    if isinstance(error, client.ApiException):
        return f"{error.status} {error.reason}"  # its str() carries every header
    return repr(error)


def _held(deployment: Deployment) -> Deployment:
    """The Deployment as the cache keeps it: without managedFields, which nothing here reads
    and which were most of each copy handed out. A write of a copy leaves the server's
    as they are (an update that omits them keeps them)."""
    deployment.get("metadata", {}).pop("managedFields", None)
    return deployment


def _copy(deployment: Deployment) -> Deployment:
    """A deep copy. Deployments are plain JSON data, which pickle copies exactly, in about
    a quarter of `copy.deepcopy`'s time: the copy a lookup hands out was the router's
    largest cost at hundreds of rollouts."""
    copied: Deployment = pickle.loads(pickle.dumps(deployment, pickle.HIGHEST_PROTOCOL))
    return copied


def _keep_newer(items: dict[str, Deployment], deployment: Deployment) -> None:
    """Store it unless the cache already holds a later version of the same object (our own
    write's answer can arrive before the watch shows the older states in between)."""
    name = deployment["metadata"]["name"]
    held = items.get(name)
    if held is None or not _is_older(deployment, held):
        items[name] = deployment


def _is_older(new: Deployment, held: Deployment) -> bool:
    if new["metadata"].get("uid") != held["metadata"].get("uid"):
        return False  # deleted and created again: the new object wins
    new_version, held_version = _version(new), _version(held)
    # resourceVersions are etcd revisions in every apiserver we know; were one not a
    # number, the newest arrival wins, which a later event corrects.
    return new_version is not None and held_version is not None and new_version < held_version


def _version(deployment: Deployment) -> int | None:
    text = deployment["metadata"].get("resourceVersion") or ""
    return int(text) if text.isdigit() else None
