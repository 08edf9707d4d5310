"""The decision log: every record, kept in the cluster so a crash loses none (invariant 5).

One ConfigMap per rollout holds one entry per judged window, named by the window's key, so
writing the same window's record again (a replay after a crash) replaces it instead of
adding a second one. The ConfigMap has no owner on purpose: the audit trail outlives the
AIRollout it describes, for the feedback loop to read later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from kubernetes import client

from airollout.api.status import DecisionRecord
from airollout.controller.resources import DECISION_LOG_LABEL, ROLLOUT_LABEL

log = logging.getLogger("airollout.decisions")


def log_name(rollout: str) -> str:
    return f"{rollout}-decisions"[:253]


def entry_name(key: str) -> str:
    return f"{key}.json"


class DecisionLog:
    def __init__(self, core: client.CoreV1Api) -> None:
        self.core = core

    def write(self, namespace: str, rollout: str, key: str, record: DecisionRecord) -> None:
        entry = record.model_dump(mode="json", by_alias=True, exclude_none=True)
        text = json.dumps(entry, sort_keys=True, separators=(",", ":"))
        # One JSON line per decision on stdout too, for whoever collects the operator's logs.
        log.info(json.dumps({"namespace": namespace, "rollout": rollout, **entry}))
        patch = {"data": {entry_name(key): text}}
        try:
            self.core.patch_namespaced_config_map(log_name(rollout), namespace, patch)
        except client.ApiException as error:
            if error.status != 404:
                raise
            self._create(namespace, rollout, patch["data"])

    def _create(self, namespace: str, rollout: str, data: Mapping[str, str]) -> None:
        labels = {DECISION_LOG_LABEL: "true", ROLLOUT_LABEL: rollout}
        body = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=log_name(rollout), labels=labels), data=dict(data)
        )
        try:
            self.core.create_namespaced_config_map(namespace, body)
        except client.ApiException as error:
            if error.status != 409:  # created meanwhile: write into it instead
                raise
            self.core.patch_namespaced_config_map(log_name(rollout), namespace, {"data": data})

    def read(self, namespace: str, rollout: str) -> dict[str, dict[str, Any]]:
        """Every record of a rollout by window key; empty if it has none yet."""
        try:
            config_map = self.core.read_namespaced_config_map(log_name(rollout), namespace)
        except client.ApiException as error:
            if error.status == 404:
                return {}
            raise
        data = config_map.data or {}
        return {name.removesuffix(".json"): json.loads(text) for name, text in data.items()}
