"""Finished rollouts, as the AIRollout objects and their decision logs show them.

No I/O here: the loop reads the objects and records, these functions turn them into the
core's `FinishedRollout`, the promotion signals the score was made from, and the MLflow
run that records the rollout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from airollout.adapters.mlflow.tracking import OUTCOME_TAG, RolloutRun, WindowPoint
from airollout.core.decision_log_layout import LoggedRecord
from airollout.core.feedback.outcomes import (
    FAILED,
    PROMOTED,
    ROLLED_BACK,
    FinishedRollout,
    FullRun,
    Outcome,
    PlanRecord,
)
from airollout.core.promotion.signals import Signals, SignalsError, signals_from_json
from airollout.core.resource.spec import AIRolloutSpec
from airollout.core.rollout.timeline import from_rfc3339

RESULT_OF_PHASE = {"Succeeded": PROMOTED, "RolledBack": ROLLED_BACK, "Failed": FAILED}
# A window's verdict as a number, so MLflow can plot it over the rollout's steps.
VERDICT_VALUE = {"proceed": 1.0, "hold": 0.0, "rollback": -1.0}


@dataclasses.dataclass(frozen=True)
class Tracked:
    """One finished rollout with everything the loop needs about it."""

    uid: str
    rollout: FinishedRollout
    spec: AIRolloutSpec | None  # None: the stored spec no longer parses
    records: tuple[LoggedRecord, ...]
    started_at: datetime | None
    signals: Signals | None  # the promotion Job's signals; None without a promotion stage
    test_plan: Mapping[str, Any] | None = None  # status.testPlan: the selection Job's plan
    tests: Mapping[str, Any] | None = None  # status.tests: the tests Job's totals and failures


def finished(manifest: Mapping[str, Any], records: Sequence[LoggedRecord]) -> Tracked | None:
    """The rollout if its phase is final and says when it got there, else None."""
    status = manifest.get("status") or {}
    result = RESULT_OF_PHASE.get(str(status.get("phase")))
    finished_at = _completed_at(status) or _newest(records)
    if result is None or finished_at is None:
        return None
    metadata = manifest.get("metadata") or {}
    raw_spec = manifest.get("spec") or {}
    promotion = status.get("promotion") or _promotion_record(records)
    score = promotion.get("score")
    rollout = FinishedRollout(
        name=str(metadata.get("name", "")),
        namespace=str(metadata.get("namespace", "")),
        target=str((raw_spec.get("targetRef") or {}).get("name", "")),
        revision=str(raw_spec.get("revision") or ""),
        template_hash=str(status.get("templateHash") or ""),
        result=result,
        finished_at=finished_at,
        score=float(score) if isinstance(score, int | float) else None,
        decision=promotion.get("decision"),
    )
    return Tracked(
        uid=str(metadata.get("uid", "")),
        rollout=rollout,
        spec=_spec(raw_spec),
        records=tuple(records),
        started_at=_time(metadata.get("creationTimestamp")),
        signals=_signals(promotion.get("signals")),
        test_plan=status.get("testPlan"),
        tests=status.get("tests"),
    )


def plan_record(item: Tracked) -> PlanRecord | None:
    """The test plan the rollout ran, if it had a selection stage."""
    plan = item.test_plan
    if not plan:
        return None
    changed = plan.get("changed_paths") or plan.get("changed") or ()
    return PlanRecord(
        revision=item.rollout.revision,
        tests=frozenset(str(test) for test in plan.get("tests") or ()),
        changed_paths=tuple(str(path) for path in changed),
        planned_at=item.started_at or item.rollout.finished_at,
        full_suite=bool(plan.get("full_suite")),
    )


def full_run(item: Tracked) -> FullRun | None:
    """A run of the whole suite and what failed in it: what later shows a plan's escapes."""
    plan = plan_record(item)
    if plan is None or not plan.full_suite or item.tests is None:
        return None
    failing = frozenset(str(test) for test in item.tests.get("failing") or ())
    return FullRun(item.rollout.revision, failing, item.rollout.finished_at)


def with_predecessors(tracked: Sequence[Tracked]) -> list[Tracked]:
    """Each rollout with the template it replaced: the one the target's previous promotion
    put in place, so a later rollout back to that template reads as a revert."""
    ordered = sorted(tracked, key=lambda item: item.rollout.finished_at)
    last_promoted: dict[tuple[str, str], str] = {}
    out = []
    for item in ordered:
        key = (item.rollout.namespace, item.rollout.target)
        previous = last_promoted.get(key)
        out.append(
            dataclasses.replace(
                item, rollout=dataclasses.replace(item.rollout, previous_template_hash=previous)
            )
        )
        if item.rollout.promoted and item.rollout.template_hash:
            last_promoted[key] = item.rollout.template_hash
    return out


def window_points(records: Sequence[LoggedRecord]) -> list[WindowPoint]:
    """The judged windows in order, numbered from 1: verdict, weight, each metric's values."""
    windows = [entry for entry in records if entry.action in VERDICT_VALUE]
    points = []
    for step, entry in enumerate(windows, start=1):
        values = {"verdict": VERDICT_VALUE[entry.action], "weight": float(_number(entry, "weight"))}
        for metric in entry.record.get("metrics") or []:
            for version in ("canary", "stable"):
                value = metric.get(f"{version}Value")
                if isinstance(value, int | float):
                    values[f"{metric.get('name')}.{version}"] = float(value)
        if entry.time is not None:
            points.append(WindowPoint(step=step, time=entry.time, values=values))
    return points


def rollout_run(item: Tracked, outcome: Outcome | None) -> RolloutRun:
    rollout, spec = item.rollout, item.spec
    params = {
        "target": rollout.target,
        "revision": rollout.revision,
        "template_hash": rollout.template_hash,
        "result": rollout.result,
    }
    if spec is not None:
        params["slices"] = ",".join(str(weight) for weight in spec.traffic.slices)
        params["judge_mode"] = str(spec.judge.mode)
    tags = {
        "airollout.namespace": rollout.namespace,
        "airollout.name": rollout.name,
        "airollout.result": rollout.result,
    }
    if rollout.decision:
        tags["airollout.decision"] = rollout.decision
    if outcome is not None:
        tags[OUTCOME_TAG] = outcome.value
    return RolloutRun(
        uid=item.uid,
        namespace=rollout.namespace,
        name=rollout.name,
        params=params,
        windows=window_points(item.records),
        tags=tags,
        score=rollout.score,
        started_at=item.started_at,
        finished_at=rollout.finished_at,
    )


def _completed_at(status: Mapping[str, Any]) -> datetime | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Completed" and condition.get("status") == "True":
            return _time(condition.get("lastTransitionTime"))
    return None


def _newest(records: Sequence[LoggedRecord]) -> datetime | None:
    times = [entry.time for entry in records if entry.time is not None]
    return max(times) if times else None


def _promotion_record(records: Sequence[LoggedRecord]) -> Mapping[str, Any]:
    found = [entry.record["promotion"] for entry in records if entry.record.get("promotion")]
    return found[-1] if found else {}


def _spec(raw: Mapping[str, Any]) -> AIRolloutSpec | None:
    try:
        return AIRolloutSpec.model_validate(raw)
    except ValidationError:
        return None


def _signals(raw: Any) -> Signals | None:
    if not isinstance(raw, Mapping):
        return None
    try:
        return signals_from_json(raw)
    except SignalsError:
        return None


def _time(text: Any) -> datetime | None:
    return from_rfc3339(text) if isinstance(text, str) and text else None


def _number(entry: LoggedRecord, key: str) -> float:
    value = entry.record.get(key)
    return float(value) if isinstance(value, int | float) else 0.0
