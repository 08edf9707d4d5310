"""Objects of one kind as a watch keeps them: reads without a request per reconcile.

A namespace is watched from the first time one of its objects is asked for (one list, then
a watch from that list's resourceVersion), so the operator holds only the namespaces its
rollouts live in. Until that list has arrived, or while the watch is broken, the namespace
is "not known" and callers ask the API server as before. What is kept is what `keep`
leaves of each object (at least its metadata's name, uid and resourceVersion).
"""

from __future__ import annotations

import json
import logging
import pickle
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import client
from kubernetes import watch as _watch

log = logging.getLogger("airollout.controller")

Object = dict[str, Any]
# list(namespace, **options): the API call listing (and, with watch=True, watching) the kind.
ListCall = Callable[..., Any]
# The apiserver ends each watch after this long; the loop then watches on from where it was.
WATCH_SECONDS = 300
RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
# UIDs of deleted objects remembered per namespace, so a write's answer that arrives
# after the watch saw the object go cannot bring it back.
TOMBSTONES_KEPT = 256

_Watch: Any = _watch.Watch  # untyped module: one Any rather than an ignore per call


class _RawWatch(_Watch):  # type: ignore[misc]
    """A watch whose events carry the object as the API server's JSON, never a model."""

    def get_return_type(self, func: Any) -> None:
        return None


@dataclass
class _Namespace:
    synced: bool = False
    items: dict[str, Object] = field(default_factory=dict)
    deleted: deque[str] = field(default_factory=lambda: deque(maxlen=TOMBSTONES_KEPT))


class WatchedObjects:
    """Every object of one kind in the namespaces asked about, one watch per namespace.

    A kind is a subclass: its `kind` (for logs), its API's list call and what is kept.
    """

    kind = "objects"

    def __init__(
        self,
        api_client: client.ApiClient,
        watch_seconds: int = WATCH_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        # Its own client, as the same user (impersonation too): a watch holds a pooled
        # connection for minutes, and the reconciles' pool is sized for their requests.
        own = client.ApiClient(api_client.configuration)
        own.default_headers.update(api_client.default_headers)
        self._list_call = self.list_call(own)
        self._watch_seconds, self._retry_seconds = watch_seconds, retry_seconds
        self._lock = threading.Lock()
        self._namespaces: dict[str, _Namespace] = {}
        self._stopping = threading.Event()
        self._watches: list[Any] = []  # the watch streams running, stopped by close()

    def list_call(self, api: client.ApiClient) -> ListCall:
        """The API's list (and, with watch=True, watch) call for one namespace's objects."""
        raise NotImplementedError

    def keep(self, obj: Object) -> Object:
        """What is kept of each object: by default all but managedFields, which nothing
        here reads and which were most of each copy handed out. A write of a copy leaves
        the server's as they are (an update that omits them keeps them)."""
        obj.get("metadata", {}).pop("managedFields", None)
        return obj

    def lookup(self, namespace: str, name: str) -> tuple[bool, Object | None]:
        """(known, the object or None when it does not exist); (False, None) until the
        namespace's first list has arrived or while its watch is broken. A copy: callers
        edit what they read before writing it."""
        with self._lock:
            space = self._watched(namespace)
            if not space.synced:
                return False, None
            found = space.items.get(name)
        return True, _copy(found) if found is not None else None

    def matching(self, namespace: str, wanted: Callable[[Object], bool]) -> list[Object] | None:
        """Copies of the namespace's objects that `wanted` accepts; None while it is not
        known (see `lookup`)."""
        with self._lock:
            space = self._watched(namespace)
            if not space.synced:
                return None
            return [_copy(obj) for obj in space.items.values() if wanted(obj)]

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

    def store(self, obj: Object) -> None:
        """What a write returned: newer than anything the watch has shown so far."""
        metadata = obj.get("metadata") or {}
        with self._lock:
            space = self._namespaces.get(metadata.get("namespace", ""))
            if space is not None and space.synced and metadata.get("uid") not in space.deleted:
                _keep_newer(space.items, self.keep(_copy(obj)))

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
            target=self._follow, args=(namespace,), name=f"{self.kind}-{namespace}", daemon=True
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
                    "%s in %s: watch failed (%s); reads ask the API server, next try in %gs",
                    self.kind,
                    namespace,
                    _reason(error),
                    wait,
                )
            except Exception:  # never lose the thread: the reads would fall back for good
                log.exception(
                    "%s in %s: watch failed; reads ask the API server", self.kind, namespace
                )
            if self._stopping.is_set():
                return  # closed: what is held stays as it was
            self._set_synced(namespace, False)
            self._stopping.wait(wait)
            wait = min(wait * 2, MAX_RETRY_SECONDS)

    def _list(self, namespace: str) -> str:
        answer = self._list_call(namespace, _preload_content=False)
        listed: Any = json.loads(answer.data)
        items = {item["metadata"]["name"]: self.keep(item) for item in listed.get("items") or []}
        with self._lock:
            space = self._namespaces[namespace]
            space.items, space.synced = items, True
        return str(listed["metadata"]["resourceVersion"])

    def _watch(self, namespace: str, version: str) -> str | None:
        """Apply one watch's events; the version to go on from, None to list again."""
        stream = _RawWatch()
        with self._lock:
            self._watches.append(stream)
        try:
            events = stream.stream(
                self._list_call,
                namespace,
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
        obj: Object = event.get("object") or {}
        kind, version = event.get("type"), obj.get("metadata", {}).get("resourceVersion")
        with self._lock:
            space = self._namespaces[namespace]
            if kind in ("ADDED", "MODIFIED"):
                _keep_newer(space.items, self.keep(obj))
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


def _copy(obj: Object) -> Object:
    """A deep copy. The objects are plain JSON data, which pickle copies exactly, in about
    a quarter of `copy.deepcopy`'s time: the copy a lookup hands out was the router's
    largest cost at hundreds of rollouts."""
    copied: Object = pickle.loads(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))
    return copied


def _keep_newer(items: dict[str, Object], obj: Object) -> None:
    """Store it unless the cache already holds a later version of the same object (our own
    write's answer can arrive before the watch shows the older states in between)."""
    name = obj["metadata"]["name"]
    held = items.get(name)
    if held is None or not _is_older(obj, held):
        items[name] = obj


def _is_older(new: Object, held: Object) -> bool:
    if new["metadata"].get("uid") != held["metadata"].get("uid"):
        return False  # deleted and created again: the new object wins
    new_version, held_version = _version(new), _version(held)
    # resourceVersions are etcd revisions in every apiserver we know; were one not a
    # number, the newest arrival wins, which a later event corrects.
    return new_version is not None and held_version is not None and new_version < held_version


def _version(obj: Object) -> int | None:
    text = obj["metadata"].get("resourceVersion") or ""
    return int(text) if text.isdigit() else None
