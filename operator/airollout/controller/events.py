"""Kubernetes Events on the AIRollout, one per `EmitEvent` key.

The Event's name is derived from the action's key, so emitting it again after a crash finds
it already there (409) instead of posting a duplicate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from kubernetes import client

from airollout.controller.resources import API_VERSION, KIND

COMPONENT = "airollout-operator"
MESSAGE_LIMIT = 1024  # the apiserver refuses longer event messages


@dataclass(frozen=True)
class RolloutRef:
    namespace: str
    name: str
    uid: str


def event_name(ref: RolloutRef, key: str) -> str:
    digest = hashlib.sha256(f"{ref.uid}/{key}".encode()).hexdigest()[:16]
    return f"{ref.name[:200]}.{digest}"


class EventRecorder:
    def __init__(self, core: client.CoreV1Api) -> None:
        self.core = core

    def emit(self, ref: RolloutRef, key: str, reason: str, message: str, warning: bool) -> None:
        now = datetime.now(UTC)
        body = client.CoreV1Event(
            metadata=client.V1ObjectMeta(name=event_name(ref, key), namespace=ref.namespace),
            involved_object=client.V1ObjectReference(
                api_version=API_VERSION,
                kind=KIND,
                name=ref.name,
                namespace=ref.namespace,
                uid=ref.uid,
            ),
            reason=reason,
            message=message[:MESSAGE_LIMIT],
            type="Warning" if warning else "Normal",
            source=client.V1EventSource(component=COMPONENT),
            reporting_component=COMPONENT,
            first_timestamp=now,
            last_timestamp=now,
            count=1,
        )
        try:
            self.core.create_namespaced_event(ref.namespace, body)
        except client.ApiException as error:
            if error.status != 409:  # already posted before a restart: nothing to add
                raise
