"""Rollouts and recalibrations as MLflow runs, through the tracking client (mlflow-skinny).

Idempotent: a rollout's run is found again by its UID tag, a recalibration's by its policy
version tag, so the feedback loop may run as often as it likes without duplicating runs.
On a run found again, only what it lacks is logged: params it has are never rewritten
(MLflow refuses a changed param), windows already logged (by step) are skipped, and the
tags (the outcome once labelled) are set again, which is the one thing that changes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from mlflow.entities import Metric, Param, Run, RunStatus, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

EXPERIMENT = "airollout"
KIND_TAG = "airollout.kind"
UID_TAG = "airollout.uid"
POLICY_VERSION_TAG = "airollout.policy-version"
OUTCOME_TAG = "airollout.outcome"
ROLLOUT, RECALIBRATION = "rollout", "recalibration"
POLICY_ARTIFACT = "policy.json"
VERDICT_METRIC = "verdict"
SCORE_METRIC = "promotion_score"
# MLflow's log_batch limits: 1000 metrics, 100 params, 100 tags per call.
METRICS_PER_BATCH = 1000
PARAMS_PER_BATCH = 100
FINISHED = RunStatus.to_string(RunStatus.FINISHED)
PARAM_VALUE_LIMIT = 6000  # MLflow 3 keeps params up to 6000 characters


class MlflowError(Exception):
    """The tracking server refused or could not be reached; the message names it."""


@dataclass(frozen=True)
class WindowPoint:
    """One judged window: its step (window sequence) and what it measured and decided."""

    step: int
    time: datetime
    values: Mapping[str, float]


@dataclass(frozen=True)
class RolloutRun:
    uid: str
    namespace: str
    name: str
    params: Mapping[str, str]
    windows: Sequence[WindowPoint]
    tags: Mapping[str, str] = field(default_factory=dict)
    score: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class PolicyRun:
    version: int
    policy: Mapping[str, Any]  # the policy's JSON, logged as policy.json
    changes: Sequence[str]
    created_at: datetime
    metrics: Mapping[str, float] = field(default_factory=dict)


class MlflowTracker:
    def __init__(
        self, uri: str, experiment: str = EXPERIMENT, client: MlflowClient | None = None
    ) -> None:
        self.uri = uri
        self.client = client or MlflowClient(tracking_uri=uri)
        self._experiment_name = experiment
        self._experiment_id: str | None = None

    def log_rollout(self, run: RolloutRun) -> str:
        """The run's id; created on the first call for this UID, completed on later ones."""
        tags = {KIND_TAG: ROLLOUT, UID_TAG: run.uid, **run.tags}
        with self._errors(f"rollout {run.namespace}/{run.name}"):
            found = self._find(f"tags.`{UID_TAG}` = '{_quoted(run.uid)}'")
            if found is None:
                name = f"{run.namespace}/{run.name}-{run.uid[:8]}"
                found = self._create(name, tags, run.started_at)
            run_id: str = found.info.run_id
            logged = {m.step for m in self.client.get_metric_history(run_id, VERDICT_METRIC)}
            metrics = [
                Metric(key, value, _millis(window.time), window.step)
                for window in run.windows
                if window.step not in logged
                for key, value in window.values.items()
            ]
            if run.score is not None and SCORE_METRIC not in found.data.metrics:
                at = run.finished_at or run.started_at
                metrics.append(Metric(SCORE_METRIC, run.score, _millis(at), 0))
            self._log(run_id, found, run.params, metrics, tags)
            self._finish(run_id, found, run.finished_at)
            return run_id

    def log_policy(self, run: PolicyRun) -> str:
        """The recalibration's run, with the policy JSON as the artifact `policy.json`."""
        version = str(run.version)
        tags = {
            KIND_TAG: RECALIBRATION,
            POLICY_VERSION_TAG: version,
            "mlflow.note.content": "\n".join(f"- {change}" for change in run.changes),
        }
        with self._errors(f"policy v{version}"):
            found = self._find(f"tags.`{POLICY_VERSION_TAG}` = '{version}'")
            if found is None:
                found = self._create(f"policy-v{version}", tags, run.created_at)
            elif found.info.status == FINISHED:
                return str(found.info.run_id)  # a version never changes once written
            run_id: str = found.info.run_id
            params = {"policy_version": version, **_flat("thresholds", run.policy)}
            metrics = [
                Metric(key, value, _millis(run.created_at), 0)
                for key, value in run.metrics.items()
                if key not in found.data.metrics
            ]
            self._log(run_id, found, params, metrics, tags)
            text = json.dumps(run.policy, indent=2, sort_keys=True) + "\n"
            self.client.log_text(run_id, text, POLICY_ARTIFACT)
            self._finish(run_id, found, run.created_at)
            return run_id

    def _experiment(self) -> str:
        if self._experiment_id is None:
            existing = self.client.get_experiment_by_name(self._experiment_name)
            if existing is not None:
                self._experiment_id = existing.experiment_id
            else:
                self._experiment_id = self.client.create_experiment(self._experiment_name)
        return self._experiment_id

    def _find(self, filter_string: str) -> Run | None:
        runs = self.client.search_runs([self._experiment()], filter_string, max_results=2)
        # Oldest first, so a duplicate made by two loops racing never changes which is used.
        return min(runs, key=lambda run: run.info.start_time) if runs else None

    def _create(self, name: str, tags: Mapping[str, str], at: datetime | None) -> Run:
        start = _millis(at) if at is not None else None
        return self.client.create_run(self._experiment(), start, dict(tags), run_name=name)

    def _log(
        self,
        run_id: str,
        found: Run,
        params: Mapping[str, str],
        metrics: Sequence[Metric],
        tags: Mapping[str, str],
    ) -> None:
        new_params = [
            Param(key, value[:PARAM_VALUE_LIMIT])
            for key, value in params.items()
            if key not in found.data.params
        ]
        for chunk in _chunks(new_params, PARAMS_PER_BATCH):
            self.client.log_batch(run_id, params=chunk, synchronous=True)
        for metric_chunk in _chunks(metrics, METRICS_PER_BATCH):
            self.client.log_batch(run_id, metrics=metric_chunk, synchronous=True)
        changed = [RunTag(k, v) for k, v in tags.items() if found.data.tags.get(k) != v]
        if changed:
            self.client.log_batch(run_id, tags=changed, synchronous=True)

    def _finish(self, run_id: str, found: Run, at: datetime | None) -> None:
        if found.info.status != FINISHED:
            end = _millis(at) if at is not None else None
            self.client.set_terminated(run_id, "FINISHED", end)

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Library errors leave as MlflowError, naming the server and what was logged."""
        try:
            yield
        except MlflowException as error:
            raise MlflowError(f"MLflow at {self.uri}: {what}: {error.message}") from error
        except requests.RequestException as error:
            raise MlflowError(f"MLflow at {self.uri}: {what}: {error}") from error


def _quoted(text: str) -> str:
    return text.replace("'", "\\'")


def _millis(at: datetime | None) -> int:
    return int(at.timestamp() * 1000) if at is not None else 0


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _flat(prefix: str, policy: Mapping[str, Any]) -> dict[str, str]:
    """The policy's thresholds as params, e.g. thresholds.auto_promote = 0.93."""
    section = policy.get(prefix)
    items: Iterable[tuple[str, Any]] = section.items() if isinstance(section, Mapping) else ()
    return {f"{prefix}.{key}": str(value) for key, value in items}
