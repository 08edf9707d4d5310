"""The Jobs a rollout runs before traffic moves (test selection, the selected tests): what
each Job is, and what its finished pods say, as the state machine's inputs.

Pure: the adapter (`adapters/kubernetes/jobs.py`) creates the manifest built here and reads
the Job back as a `JobView`; `outcome` turns that into SelectionFinished/SelectionFailed,
ShardsFinished/ShardsJobFailed or PromotionScored/PromotionJobFailed. A Job is named from
its action's key, so creating it again after a crash finds the first one (invariant 5,
docs/architecture.md#safety-invariants).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airollout.core.promotion.tiers import CAUTION
from airollout.core.resource.names import API_VERSION, GROUP, KIND, ROLLOUT_LABEL
from airollout.core.rollout.actions import JobKind
from airollout.core.rollout.inputs import (
    PromotionJobFailed,
    PromotionScored,
    RolloutEvent,
    SelectionFailed,
    SelectionFinished,
    ShardsFinished,
    ShardsJobFailed,
)

MAX_NAME = 63  # a Job's name becomes a label value on its pods
KEY_ANNOTATION = f"{GROUP}/job-key"
KIND_LABEL = f"{GROUP}/job-kind"
JOB_KEY_SUFFIXES = {f"-{kind.value}": kind for kind in JobKind}
MESSAGE_SHOWN = 300  # of a pod's termination message quoted in a failure


def job_kind_of(key: str | None) -> JobKind | None:
    """The kind of Job an awaited key names; None for any other action's key."""
    for suffix, kind in JOB_KEY_SUFFIXES.items():
        if key and key.endswith(suffix):
            return kind
    return None


def job_name(rollout: str, key: str) -> str:
    """`<rollout>-<key>`, shortened with a digest of the whole when it is too long."""
    name = f"{rollout}-{key}".lower()
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    head = name[: MAX_NAME - len(key) - len(digest) - 2].rstrip("-.")
    return f"{head}-{digest}-{key}"


@dataclass(frozen=True, slots=True)
class JobRequest:
    """Everything a Job is made from: the spec's template and what the rollout knows."""

    kind: JobKind
    key: str
    rollout: str
    namespace: str
    uid: str
    template: Mapping[str, Any]  # the jobTemplate of spec.selection, tests or promotion
    deadline_s: int
    env: Mapping[str, str]  # AIROLLOUT_* inputs, set on every container
    shards: int = 1  # completions of the tests Job
    max_parallelism: int = 1


def inputs_env(
    revision: str,
    base_revision: str | None,
    rollout: str,
    plan: Mapping[str, Any] | None,
    test_results: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """What a Job learns of the rollout; the promotion Job also gets the tests' totals."""
    env = {
        "AIROLLOUT_REVISION": revision,
        "AIROLLOUT_BASE_REVISION": base_revision or "",
        "AIROLLOUT_ROLLOUT": rollout,
    }
    if plan is not None:
        env["AIROLLOUT_TEST_PLAN"] = _compact(plan)
    if test_results is not None:
        env["AIROLLOUT_TEST_RESULTS"] = _compact(test_results)
    return env


def _compact(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def job_manifest(request: JobRequest) -> dict[str, Any]:
    template = copy.deepcopy(dict(request.template))
    metadata = dict(template.get("metadata") or {})
    spec = dict(template.get("spec") or {})
    name = job_name(request.rollout, request.key)
    labels = {**(metadata.get("labels") or {}), ROLLOUT_LABEL: request.rollout}
    labels[KIND_LABEL] = request.kind.value
    owner = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": request.rollout,
        "uid": request.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
    spec.setdefault("activeDeadlineSeconds", request.deadline_s)
    spec["template"] = _with_env(spec.get("template") or {}, request.env)
    if request.kind is JobKind.TESTS:
        _shard(spec, request)
    else:
        spec.setdefault("backoffLimit", 0)  # a plan made twice is the same plan
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            **metadata,
            "name": name,
            "namespace": request.namespace,
            "labels": labels,
            "annotations": {**(metadata.get("annotations") or {}), KEY_ANNOTATION: request.key},
            "ownerReferences": [owner],
        },
        "spec": spec,
    }


def _shard(spec: dict[str, Any], request: JobRequest) -> None:
    """One pod per shard; each shard runs once, so one failing test fails only its shard
    and the others still report theirs."""
    spec["completionMode"] = "Indexed"
    spec["completions"] = request.shards
    spec["parallelism"] = min(
        int(spec.get("parallelism") or request.max_parallelism), request.max_parallelism
    )
    if "backoffLimit" not in spec:
        spec.setdefault("backoffLimitPerIndex", 0)


def _with_env(pod: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    pod = dict(pod)
    pod_spec = dict(pod.get("spec") or {})
    pod_spec.setdefault("restartPolicy", "Never")
    containers = []
    for container in pod_spec.get("containers") or []:
        own = [item for item in container.get("env") or [] if item.get("name") not in env]
        containers.append({**container, "env": [*own, *_env_list(env)]})
    pod_spec["containers"] = containers
    pod["spec"] = pod_spec
    return pod


def _env_list(env: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in env.items()]


@dataclass(frozen=True, slots=True)
class PodView:
    index: int | None  # the completion index of an Indexed Job's pod
    phase: str  # Succeeded, Failed, Running, ...
    message: str  # the first container's termination message, "" if none
    created: str = ""  # RFC 3339; the newest pod of an index is the one that counts


@dataclass(frozen=True, slots=True)
class JobView:
    name: str
    complete: bool
    failed: bool
    failure: str = ""  # "<reason>: <message>" of the Failed condition
    pods: Sequence[PodView] = field(default_factory=tuple)


def report(message: str) -> dict[str, Any] | None:
    """The last line of a termination message that is a JSON object (a log tail may come
    before it, with FallbackToLogsOnError); None if there is none."""
    for line in reversed(message.strip().splitlines()):
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def outcome(kind: JobKind, key: str, job: JobView) -> RolloutEvent | None:
    """The input a finished Job gives the machine; None while it runs."""
    if not (job.complete or job.failed):
        return None
    if kind is JobKind.SELECTION:
        return _selection_outcome(key, job)
    if kind is JobKind.TESTS:
        return _tests_outcome(key, job)
    return _promotion_outcome(key, job)


def _selection_outcome(key: str, job: JobView) -> RolloutEvent:
    last = _newest(job.pods)
    if job.failed:
        said = f" Its pod said: {_quoted(last.message)}" if last and last.message else ""
        return SelectionFailed(key, f"Job {job.name}: {job.failure}.{said}")
    plan = report(last.message) if last else None
    problem = plan_problem(plan)
    if problem:
        return SelectionFailed(key, f"Job {job.name} succeeded but {problem}.")
    assert plan is not None
    return SelectionFinished(key, plan)


def plan_problem(plan: Mapping[str, Any] | None) -> str | None:
    if plan is None:
        return "its termination message holds no JSON plan"
    shards = plan.get("shards", [])
    if not isinstance(shards, list) or not all(
        isinstance(shard, list) and all(isinstance(test, str) for test in shard) for shard in shards
    ):
        return "the plan's shards are not lists of test node ids"
    return None


def _promotion_outcome(key: str, job: JobView) -> RolloutEvent:
    """A valid report counts even from a failed Job: a scorer may exit non-zero on block,
    as a CI step would. Without one the Job failed, whatever its exit code."""
    last = _newest(job.pods)
    said = report(last.message) if last else None
    parsed = promotion_report(key, said)
    if isinstance(parsed, PromotionScored):
        return parsed
    if job.failed:
        quoted = f" Its pod said: {_quoted(last.message)}" if last and last.message else ""
        return PromotionJobFailed(key, f"Job {job.name}: {job.failure}.{quoted}")
    return PromotionJobFailed(key, f"Job {job.name} succeeded but {parsed}.")


# From the boldest to the most cautious (the machine takes the more cautious of two).
PROMOTION_DECISIONS = tuple(decision.value for decision in CAUTION)


def promotion_report(key: str, said: Mapping[str, Any] | None) -> PromotionScored | str:
    """The report (`{"score", "decision", "blocks", "signals", "contributions", "model"}`)
    as the machine's input, or what is wrong with it, naming the field."""
    if said is None:
        return "its termination message holds no JSON report"
    score, decision = said.get("score"), said.get("decision")
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        return f"its report's score is not a number: {_quoted(str(score))}"
    if not 0.0 <= score <= 1.0:
        return f"its report's score {score} is not in [0, 1]"
    if decision not in PROMOTION_DECISIONS:
        return f"its report's decision {_quoted(str(decision))} is not one of {PROMOTION_DECISIONS}"
    blocks, signals = said.get("blocks", []), said.get("signals", {})
    contributions = said.get("contributions", [])
    if not isinstance(blocks, list) or not all(isinstance(item, str) for item in blocks):
        return "its report's blocks are not a list of reasons"
    if not isinstance(signals, dict):
        return "its report's signals are not an object"
    if not isinstance(contributions, list) or not all(isinstance(c, dict) for c in contributions):
        return "its report's contributions are not a list of objects"
    model = said.get("model")
    return PromotionScored(
        key,
        float(score),
        decision=str(decision),
        blocks=tuple(blocks),
        signals=signals,
        contributions=tuple(contributions),
        model=model if isinstance(model, str) else "",
    )


def _tests_outcome(key: str, job: JobView) -> RolloutEvent:
    reports = shard_reports(job.pods)
    failing = tuple(test for shard in reports.values() for test in _strings(shard, "failing"))
    failed = sum(_count(shard, "failed") for shard in reports.values())
    if job.complete or failed:
        return ShardsFinished(
            key,
            passed=sum(_count(shard, "passed") for shard in reports.values()),
            failed=max(failed, len(failing)),
            skipped=sum(_count(shard, "skipped") for shard in reports.values()),
            failing=failing,
        )
    silent = sorted({pod.index for pod in job.pods if pod.index is not None} - set(reports))
    missing = f"; shards without a report: {silent}" if silent else ""
    return ShardsJobFailed(key, f"Job {job.name}: {job.failure}{missing}.")


def shard_reports(pods: Sequence[PodView]) -> dict[int, dict[str, Any]]:
    """Each index's report, from its newest finished pod that left one."""
    reports: dict[int, dict[str, Any]] = {}
    for pod in sorted(pods, key=lambda pod: pod.created):
        parsed = report(pod.message) if pod.phase in ("Succeeded", "Failed") else None
        if pod.index is not None and parsed is not None:
            reports[pod.index] = parsed
    return reports


def _newest(pods: Sequence[PodView]) -> PodView | None:
    finished = [pod for pod in pods if pod.phase in ("Succeeded", "Failed")]
    return max(finished, key=lambda pod: pod.created) if finished else None


def _count(shard: Mapping[str, Any], name: str) -> int:
    value = shard.get(name, 0)
    return value if isinstance(value, int) and value >= 0 else 0


def _strings(shard: Mapping[str, Any], name: str) -> list[str]:
    value = shard.get(name, [])
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    return json.dumps(text[:MESSAGE_SHOWN] + ("…" if len(text) > MESSAGE_SHOWN else ""))
