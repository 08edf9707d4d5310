"""The feedback loop against the real apiserver, the real Prometheus and a real MLflow server.

Finished AIRollouts are written as the operator leaves them (status through the subresource,
decision records in the log); the loop labels them (a promotion's bound is checked in
Prometheus over the observation period), recalibrates, stores policy versions as ConfigMaps
and logs runs to MLflow. A second pass must add nothing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from kubernetes import client
from mlflow.tracking import MlflowClient

from airollout.adapters.kubernetes.decision_log import DecisionLog
from airollout.adapters.kubernetes.events import InvolvedRollout
from airollout.adapters.kubernetes.policy_store import CURRENT_NAME, version_name
from airollout.adapters.mlflow.tracking import EXPERIMENT, KIND_TAG, OUTCOME_TAG, UID_TAG
from airollout.cli.main import main
from airollout.core.resource.crd import GROUP, PLURAL, VERSION
from airollout.core.resource.status import DecisionRecord, MetricRecord
from airollout.core.rollout.timeline import to_rfc3339
from airollout.feedback.loop import LoopOptions, LoopResult, run_loop
from tests.support.mlflow_server import mlflow_uri  # noqa: F401  (the session's server)

pytestmark = pytest.mark.cluster

OBSERVATION = timedelta(seconds=3)
UP_QUERY = 'max_over_time(up{job="prometheus"}[{{ window }}])'
# up is 1 while Prometheus scrapes itself: a max of 2 holds, a max of 0.5 is breached.
HEALTHY, REGRESSED, ROLLED_BACK = 30, 6, 20
GOOD = {"coverage_delta": 0.5, "change": {"files": 3, "lines": 40, "risk_tier": "low"}}
RISKY = {"coverage_delta": -3.0, "change": {"files": 40, "lines": 2400, "risk_tier": "high"}}


def a_spec(target: str, revision: str, bound: float) -> dict[str, Any]:
    metric = {"name": "up", "kind": "gauge", "query": UP_QUERY, "max": bound, "compare": "none"}
    return {
        "targetRef": {"name": target},
        "template": {"image": f"registry.example/{target}:{revision}"},
        "revision": revision,
        "traffic": {"slices": [10, 50, 100]},
        "analysis": {"metrics": [metric]},
    }


class Writer:
    """Writes finished rollouts the way the operator leaves them."""

    def __init__(self, api: client.ApiClient, namespace: str, finished_at: datetime) -> None:
        self.custom = client.CustomObjectsApi(api)
        self.log = DecisionLog(client.CoreV1Api(api))
        self.namespace, self.finished_at = namespace, finished_at

    def rollout(
        self, name: str, phase: str, signals: dict[str, Any], *, bound: float = 2.0, **at: Any
    ) -> str:
        target, revision = at.get("target", f"svc-{name}"), at.get("revision", f"r-{name}")
        finished = self.finished_at + at.get("offset", timedelta())
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "AIRollout",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": a_spec(target, revision, bound),
        }
        created = self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, body
        )
        completed = {"type": "Completed", "status": "True", "reason": phase, "message": ""}
        status = {
            "phase": phase,
            "templateHash": at.get("template_hash", f"h-{name}"),
            "conditions": [{**completed, "lastTransitionTime": to_rfc3339(finished)}],
        }
        self.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, self.namespace, PLURAL, name, {"status": status}
        )
        uid = str(created["metadata"]["uid"])
        self._records(InvolvedRollout(self.namespace, name, uid), phase, signals, finished)
        return uid

    def _records(
        self, ref: InvolvedRollout, phase: str, signals: dict[str, Any], finished: datetime
    ) -> None:
        score = 0.95 if signals is GOOD else 0.6
        promotion = {"score": score, "decision": "auto-promote", "signals": signals}
        verdict = DecisionRecord(
            time=to_rfc3339(finished - timedelta(seconds=30)),
            action="auto-promote",
            key="promotion",
            reasoning="score",
            promotion=promotion,
        )
        self.log.write(ref, "promotion", verdict)
        last = "rollback" if phase == "RolledBack" else "proceed"
        for window, action in ((1, "proceed"), (2, last)):
            key = f"g1-s{window - 1}-w1"
            record = DecisionRecord(
                time=to_rfc3339(finished - timedelta(seconds=10 * (3 - window))),
                action=action,
                key=key,
                reasoning=action,
                weight=10 if window == 1 else 50,
                metrics=[MetricRecord(name="up", kind="gauge", canary_value=1.0, stable_value=1.0)],
            )
            self.log.write(ref, key, record)


def prometheus_has_data(prometheus: str) -> bool:
    answer = requests.get(
        f"{prometheus}/api/v1/query",
        params={"query": 'count_over_time(up{job="prometheus"}[10s])'},
        timeout=5,
    ).json()
    series = answer["data"]["result"]
    return bool(series) and float(series[0]["value"][1]) >= 5


@pytest.fixture(scope="module")
def world(
    cluster: Any, crd_installed: Path, kube_api: client.ApiClient, eventually: Any
) -> Iterator[dict[str, Any]]:
    prometheus = cluster.require_prometheus()
    eventually(lambda: prometheus_has_data(prometheus), 60, "10 s of Prometheus samples")
    core = client.CoreV1Api(kube_api)
    namespace = f"t-feedback-{secrets.token_hex(3)}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    writer = Writer(kube_api, namespace, datetime.now(UTC) - timedelta(seconds=5))
    uids = {}
    for index in range(HEALTHY):
        uids[f"ok-{index}"] = writer.rollout(f"ok-{index}", "Succeeded", GOOD)
    for index in range(REGRESSED):
        uids[f"bad-{index}"] = writer.rollout(f"bad-{index}", "Succeeded", RISKY, bound=0.5)
    for index in range(ROLLED_BACK):
        uids[f"rb-{index}"] = writer.rollout(f"rb-{index}", "RolledBack", RISKY)
    same = {"target": "svc-retry", "revision": "r-retry", "template_hash": "h-retry"}
    uids["retry-1"] = writer.rollout(
        "retry-1", "RolledBack", GOOD, offset=-timedelta(seconds=2), **same
    )
    uids["retry-2"] = writer.rollout(
        "retry-2", "Succeeded", GOOD, offset=-timedelta(seconds=1), **same
    )
    yield {"namespace": namespace, "prometheus": prometheus, "uids": uids, "core": core}
    core.delete_namespace(namespace)


def options(world: dict[str, Any], uri: str, apply: bool = False) -> LoopOptions:
    return LoopOptions(
        namespaces=(world["namespace"],),
        policy_namespace=world["namespace"],
        observation=OBSERVATION,
        prometheus=world["prometheus"],
        mlflow_uri=uri,
        apply=apply,
    )


@pytest.fixture(scope="module")
def first_pass(
    world: dict[str, Any],
    kube_api: client.ApiClient,
    mlflow_uri: str,  # noqa: F811
) -> LoopResult:
    return run_loop(kube_api, options(world, mlflow_uri), datetime.now(UTC))


def rollout_runs(uri: str, namespace: str) -> list[Any]:
    mlflow = MlflowClient(uri)
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    runs = mlflow.search_runs(
        [experiment.experiment_id],
        f"tags.`{KIND_TAG}` = 'rollout' and tags.`airollout.namespace` = '{namespace}'",
        max_results=1000,
    )
    return list(runs)


def test_the_loop_labels_each_outcome_from_the_cluster_and_prometheus(
    first_pass: LoopResult,
) -> None:
    outcomes = dict(first_pass.to_json()["labelled"])
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1

    namespace = next(iter(outcomes)).split("/")[0]
    assert first_pass.unlabelled == ()
    assert counts == {
        "healthy": HEALTHY + 1,
        "regressed": REGRESSED,
        "rolled-back-bad": ROLLED_BACK,
        "false-rollback": 1,
    }
    assert outcomes[f"{namespace}/bad-0"] == "regressed", "the bound breached in Prometheus"
    assert outcomes[f"{namespace}/retry-1"] == "false-rollback", "retried unchanged, promoted"


def test_a_recalibration_is_stored_as_a_new_version_and_not_applied(
    first_pass: LoopResult, world: dict[str, Any]
) -> None:
    core, namespace = world["core"], world["namespace"]

    proposed = first_pass.proposed
    assert proposed is not None
    assert proposed.version == 2
    assert proposed.changes, "a new version says what changed and why"
    stored = core.read_namespaced_config_map(version_name(2), namespace)
    assert json.loads(stored.data["policy.json"])["version"] == 2
    assert proposed.changes[0] in stored.data["changes.md"]
    assert core.read_namespaced_config_map(version_name(1), namespace).data["version"] == "1"
    with pytest.raises(client.ApiException) as missing:
        core.read_namespaced_config_map(CURRENT_NAME, namespace)
    assert missing.value.status == 404, "applied only with --apply"


def test_every_rollout_is_an_mlflow_run_with_params_metrics_and_outcome(
    first_pass: LoopResult,
    world: dict[str, Any],
    mlflow_uri: str,  # noqa: F811
) -> None:
    runs = {run.data.tags[UID_TAG]: run for run in rollout_runs(mlflow_uri, world["namespace"])}
    bad = runs[world["uids"]["bad-0"]]
    history = MlflowClient(mlflow_uri).get_metric_history(bad.info.run_id, "verdict")

    assert set(runs) == set(world["uids"].values())
    assert bad.data.params["target"] == "svc-bad-0"
    assert bad.data.params["revision"] == "r-bad-0"
    assert bad.data.params["template_hash"] == "h-bad-0"
    assert bad.data.params["slices"] == "10,50,100"
    assert bad.data.params["judge_mode"] == "rules"
    assert bad.data.tags[OUTCOME_TAG] == "regressed"
    assert bad.data.metrics["promotion_score"] == pytest.approx(0.6)
    assert bad.data.metrics["up.canary"] == 1.0
    assert sorted((m.step, m.value) for m in history) == [(1, 1.0), (2, 1.0)]
    rolled_back = runs[world["uids"]["rb-0"]]
    assert rolled_back.data.metrics["verdict"] == -1.0, "the last window rolled back"
    assert rolled_back.data.tags[OUTCOME_TAG] == "rolled-back-bad"


def test_the_recalibration_is_a_run_with_the_policy_as_artifact(
    first_pass: LoopResult,
    mlflow_uri: str,  # noqa: F811
) -> None:
    mlflow = MlflowClient(mlflow_uri)
    run = mlflow.get_run(first_pass.mlflow_runs["policy-v2"])
    local = mlflow.download_artifacts(run.info.run_id, "policy.json")

    assert run.data.tags[KIND_TAG] == "recalibration"
    assert json.loads(Path(local).read_text()) == first_pass.proposed.to_json()  # type: ignore[union-attr]
    assert run.data.metrics["examples"] == HEALTHY + REGRESSED + ROLLED_BACK + 2
    assert 0.0 <= run.data.metrics["brier"] <= 1.0


def test_a_second_pass_with_apply_adds_no_run_and_puts_the_version_in_force(
    first_pass: LoopResult,
    world: dict[str, Any],
    crd_installed: Path,
    mlflow_uri: str,  # noqa: F811
    capsys: Any,
) -> None:
    namespace = world["namespace"]
    before = {run.info.run_id for run in rollout_runs(mlflow_uri, namespace)}
    argv = ["feedback", "run", "-n", namespace, "--kubeconfig", str(crd_installed)]
    argv += ["--observation", "3s", "--prometheus", world["prometheus"]]
    argv += ["--mlflow-uri", mlflow_uri, "--policy-namespace", namespace, "--apply"]

    code = main(argv)

    printed = json.loads(capsys.readouterr().out)
    after = rollout_runs(mlflow_uri, namespace)
    history = MlflowClient(mlflow_uri).get_metric_history(
        first_pass.mlflow_runs[world["uids"]["ok-0"]], "verdict"
    )
    pointer = world["core"].read_namespaced_config_map(CURRENT_NAME, namespace)
    assert code == 0
    assert printed["judge"]["false_rollbacks"] == 1
    assert printed["judge"]["regressed"] == REGRESSED
    assert printed["calibration"]["scored"] == len(world["uids"])
    assert 0.0 < printed["calibration"]["brier"] < 1.0
    assert printed["proposed"] is None, "the same outcomes propose nothing new"
    assert printed["applied"] == 2
    assert {run.info.run_id for run in after} == before
    assert len(history) == 2, "windows are not logged twice"
    assert printed["mlflow_runs"]["policy-v2"] == first_pass.mlflow_runs["policy-v2"]
    assert pointer.data["version"] == "2"


def test_the_report_is_markdown_with_plots_and_goes_to_the_step_summary(
    first_pass: LoopResult,
    world: dict[str, Any],
    crd_installed: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    namespace, summary = world["namespace"], tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    argv = ["feedback", "report", "-n", namespace, "--kubeconfig", str(crd_installed)]
    argv += ["--observation", "3s", "--prometheus", world["prometheus"]]
    argv += ["--policy-namespace", namespace, "--out", str(tmp_path / "report")]

    code = main([*argv, "--github-summary"])

    report = Path(capsys.readouterr().out.strip())
    text = report.read_text()
    promoted = HEALTHY + REGRESSED + 1
    assert code == 0
    assert f"| Promoted but regressed | {REGRESSED} of {promoted} " in text
    assert "| False rollbacks | 1 of 21 " in text
    assert (report.parent / "reliability.png").read_bytes().startswith(b"\x89PNG")
    assert (report.parent / "outcomes.png").read_bytes().startswith(b"\x89PNG")
    assert summary.read_text().startswith(text)


def test_feedback_history_writes_what_promotion_score_reads(
    first_pass: LoopResult,
    world: dict[str, Any],
    crd_installed: Path,
    tmp_path: Path,
    capsys: Any,
) -> None:
    namespace, out = world["namespace"], tmp_path / "outcomes.jsonl"
    argv = ["feedback", "history", "-n", namespace, "--kubeconfig", str(crd_installed)]
    argv += ["--observation", "3s", "--prometheus", world["prometheus"], "--out", str(out)]

    assert main(argv) == 0
    capsys.readouterr()
    junit = Path(__file__).parents[1] / "unit" / "reports" / "data" / "junit_pytest.xml"
    score = ["promotion", "score", "--junit", str(junit), "--json", "--history", str(out)]
    main([*score, "--service", "svc-bad-0"])
    signals = json.loads(capsys.readouterr().out)["signals"]

    assert len(out.read_text().splitlines()) == len(world["uids"])
    assert signals["history"] == {"rollouts": 1, "incidents": 1}, "bad-0 regressed"
