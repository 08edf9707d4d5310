"""One pass of the feedback loop: read finished rollouts, label them, score the past
decisions, propose a policy, and record it all (ConfigMaps; MLflow when given a URI).

Every pass recomputes from the cluster's own records (the AIRollouts and their decision
logs), so a pass repeated changes nothing: a policy version is written only when
`recalibrate` proposes one, and MLflow runs are found again by their tags.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from kubernetes import client

from airollout.adapters.kubernetes.decision_log import DecisionLog
from airollout.adapters.kubernetes.policy_store import PolicyStore
from airollout.adapters.metrics.breaches import PeriodReader
from airollout.adapters.mlflow.tracking import MlflowTracker, PolicyRun
from airollout.core.feedback.drift import Finding, events_from, findings
from airollout.core.feedback.outcomes import (
    GOOD_ARTIFACTS,
    Escape,
    LabelledRollout,
    Outcome,
    PlanRecord,
    label,
)
from airollout.core.feedback.policy import Policy, initial_policy, recalibrate
from airollout.core.feedback.scores import (
    brier,
    calibration,
    expected_calibration_error,
    judge_scores,
    selection_escapes,
)
from airollout.core.promotion.model import score
from airollout.core.promotion.signals import Signals
from airollout.core.resource.names import GROUP, PLURAL, VERSION
from airollout.feedback import observation
from airollout.feedback.finished import (
    Tracked,
    finished,
    full_run,
    plan_record,
    rollout_run,
    with_predecessors,
)

PAGE_SIZE = 100


@dataclasses.dataclass(frozen=True)
class LoopOptions:
    namespaces: tuple[str, ...]  # empty: every namespace
    policy_namespace: str  # where the policy ConfigMaps live (the release's namespace)
    observation: timedelta = timedelta(hours=1)
    prometheus: str | None = None  # else each rollout's spec.analysis.prometheus.address
    mlflow_uri: str | None = None
    apply: bool = False
    target_false_promotion_rate: float = 0.05


@dataclasses.dataclass(frozen=True)
class LoopResult:
    tracked: tuple[Tracked, ...]
    labelled: tuple[LabelledRollout, ...]
    unlabelled: tuple[str, ...]  # namespace/name of each rollout still without a label
    findings: tuple[Finding, ...]
    escapes: tuple[Escape, ...]
    policy: Policy  # the newest version after this pass
    proposed: Policy | None  # written by this pass; None: nothing would change
    applied: int | None  # the version in force after this pass
    mlflow_runs: dict[str, str]  # rollout UID (or policy-v<N>) → MLflow run id
    problems: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "rollouts": len(self.tracked),
            "labelled": {
                f"{item.rollout.namespace}/{item.rollout.name}": item.outcome.value
                for item in self.labelled
            },
            "unlabelled": list(self.unlabelled),
            "judge": dataclasses.asdict(judge_scores(self.labelled)),
            "calibration": _calibration_json(self.labelled),
            "findings": [finding.sentence for finding in self.findings],
            "escapes": [f"{escape.test} at {escape.revision}" for escape in self.escapes],
            "policy": self.policy.version,
            "proposed": self.proposed.to_json() if self.proposed else None,
            "applied": self.applied,
            "mlflow_runs": self.mlflow_runs,
            "problems": list(self.problems),
        }


def _calibration_json(labelled: Sequence[LabelledRollout]) -> dict[str, Any] | None:
    """The recorded promotion scores against the outcomes: Brier score and ECE."""
    scored = calibration(labelled)
    if scored is None:
        return None
    return {"scored": scored.scored, "brier": scored.brier, "ece": scored.ece}


ReaderFor = Callable[[str], PeriodReader]


def collect(api: client.ApiClient, namespaces: Sequence[str]) -> list[Tracked]:
    """Every finished AIRollout of these namespaces (all when empty), with its records."""
    decisions = DecisionLog(client.CoreV1Api(api))
    tracked = []
    for manifest in _rollouts(client.CustomObjectsApi(api), namespaces):
        metadata = manifest.get("metadata") or {}
        records = [
            entry
            for entry in decisions.history(metadata["namespace"], metadata["name"])
            if entry.uid == metadata.get("uid")
        ]
        item = finished(manifest, records)
        if item is not None:
            tracked.append(item)
    return with_predecessors(tracked)


def _rollouts(custom: client.CustomObjectsApi, namespaces: Sequence[str]) -> Iterator[Any]:
    scopes: Sequence[str | None] = namespaces or [None]
    for namespace in scopes:
        token = None
        while True:
            page: Any
            if namespace is None:
                page = custom.list_cluster_custom_object(
                    GROUP, VERSION, PLURAL, limit=PAGE_SIZE, _continue=token
                )
            else:
                page = custom.list_namespaced_custom_object(
                    GROUP, VERSION, namespace, PLURAL, limit=PAGE_SIZE, _continue=token
                )
            yield from page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                break


Labelled = list[tuple[Tracked, Outcome]]


def label_all(
    tracked: Sequence[Tracked],
    options: LoopOptions,
    now: datetime,
    reader_for: ReaderFor = PeriodReader,
) -> tuple[Labelled, list[str], list[str]]:
    """(labelled, unlabelled names, problems): a promotion's period is read from Prometheus
    once it is over; a rollout whose answer is unknown waits for a later pass."""
    everyone = [item.rollout for item in tracked]
    readers: dict[str, PeriodReader] = {}
    labelled: Labelled = []
    unlabelled, problems = [], []
    for item in tracked:
        rollout = item.rollout
        breached = None
        if rollout.promoted and now >= rollout.finished_at + options.observation:
            breached, said = _breached(item, options, readers, reader_for)
            problems.extend(said)
        outcome = label(rollout, everyone, breached, options.observation, now)
        if outcome is None:
            unlabelled.append(f"{rollout.namespace}/{rollout.name}")
        else:
            labelled.append((item, outcome))
    return labelled, unlabelled, problems


def _breached(
    item: Tracked, options: LoopOptions, readers: dict[str, PeriodReader], reader_for: ReaderFor
) -> tuple[bool | None, list[str]]:
    spec, rollout = item.spec, item.rollout
    configured = spec.analysis.prometheus if spec is not None else None
    address = options.prometheus or (configured.address if configured else None)
    where = f"{rollout.namespace}/{rollout.name}"
    if address is None:
        return None, [f"{where}: no Prometheus (--prometheus or spec.analysis.prometheus)"]
    reader = readers.get(address) or readers.setdefault(address, reader_for(address))
    metrics = observation.bounded(spec.analysis.metrics) if spec is not None else []
    start = rollout.finished_at
    reading = reader.read(
        rollout.namespace, rollout.target, metrics, start, start + options.observation, rollout.name
    )
    verdict = observation.breached(metrics, reading.samples, reading.alerts_fired)
    return verdict, [f"{where}: {problem}" for problem in reading.problems]


def examples(labelled: Labelled) -> list[tuple[Signals, bool]]:
    """(signals, incident) of each labelled rollout whose promotion Job left its signals."""
    return [
        (item.signals, outcome not in GOOD_ARTIFACTS)
        for item, outcome in labelled
        if item.signals is not None
    ]


def plans_and_escapes(tracked: Sequence[Tracked]) -> tuple[list[PlanRecord], list[Escape]]:
    """Each targeted plan, and the tests a later full run of its revision found failing
    that the plan had left out."""
    plans = [plan for plan in map(plan_record, tracked) if plan is not None]
    runs = [run for run in map(full_run, tracked) if run is not None]
    return plans, selection_escapes(plans, runs)


def run_loop(api: client.ApiClient, options: LoopOptions, now: datetime) -> LoopResult:
    tracked = collect(api, options.namespaces)
    outcomes, unlabelled, problems = label_all(tracked, options, now)
    labelled = [LabelledRollout(item.rollout, outcome) for item, outcome in outcomes]
    _, escapes = plans_and_escapes(tracked)
    found = findings(events_from(labelled, escapes), now)
    store = PolicyStore(client.CoreV1Api(api), options.policy_namespace)
    stored = store.read()
    newest = stored.newest
    if newest is None:
        newest = initial_policy(now)
        store.write(newest)
    pairs = examples(outcomes)
    proposed = recalibrate(newest, pairs, options.target_false_promotion_rate, now, escapes=escapes)
    if proposed is not None:
        store.write(proposed)
    policy = proposed or newest
    applied = stored.current
    if options.apply and applied != policy.version:
        store.apply(policy)
        applied = policy.version
    runs: dict[str, str] = {}
    if options.mlflow_uri:
        by_uid = {item.uid: outcome for item, outcome in outcomes}
        runs = _log_to_mlflow(MlflowTracker(options.mlflow_uri), tracked, by_uid, policy, pairs)
    return LoopResult(
        tracked=tuple(tracked),
        labelled=tuple(labelled),
        unlabelled=tuple(unlabelled),
        findings=tuple(found),
        escapes=tuple(escapes),
        policy=policy,
        proposed=proposed,
        applied=applied,
        mlflow_runs=runs,
        problems=tuple(problems),
    )


def _log_to_mlflow(
    tracker: MlflowTracker,
    tracked: Sequence[Tracked],
    outcomes: dict[str, Outcome],
    policy: Policy,
    pairs: Sequence[tuple[Signals, bool]],
) -> dict[str, str]:
    runs = {}
    for item in tracked:
        runs[item.uid] = tracker.log_rollout(rollout_run(item, outcomes.get(item.uid)))
    runs[f"policy-v{policy.version}"] = tracker.log_policy(_policy_run(policy, pairs))
    return runs


def _policy_run(policy: Policy, pairs: Sequence[tuple[Signals, bool]]) -> PolicyRun:
    metrics = {
        "auto_promote": policy.thresholds.auto_promote,
        "manual_review": policy.thresholds.manual_review,
        "examples": float(len(pairs)),
    }
    if pairs:
        probabilities = [score(signals, policy.model).probability for signals, _ in pairs]
        good = [not incident for _, incident in pairs]
        metrics["brier"] = brier(probabilities, good)
        metrics["ece"] = expected_calibration_error(probabilities, good)
    return PolicyRun(
        version=policy.version,
        policy=policy.to_json(),
        changes=policy.changes,
        created_at=policy.created_at,
        metrics=metrics,
    )
