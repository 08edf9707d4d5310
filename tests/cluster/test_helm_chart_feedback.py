"""The chart's feedback CronJob with the real `helm` and apiserver: what it runs, what it may
write (ConfigMaps of the release namespace only), and that the apiserver takes it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.cluster

CHART = Path(__file__).resolve().parents[2] / "charts" / "airollout"
ENABLED = ("--set", "feedback.enabled=true")


def rendered(*values: str, namespace: str = "ops") -> list[dict[str, Any]]:
    result = subprocess.run(
        ["helm", "template", "air", str(CHART), "-n", namespace, *values],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def feedback_objects(docs: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"]): doc
        for doc in docs
        if "feedback" in doc["metadata"]["name"]
    }


def args_of(objects: dict[tuple[str, str, str], dict[str, Any]]) -> list[str]:
    (cronjob,) = [doc for (kind, _, _), doc in objects.items() if kind == "CronJob"]
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return list(container["args"])


def test_feedback_is_off_by_default() -> None:
    assert feedback_objects(rendered()) == {}


def test_the_cronjob_runs_the_loop_with_the_values() -> None:
    objects = feedback_objects(
        rendered(
            *ENABLED,
            "--set",
            "feedback.schedule=*/30 * * * *",
            "--set",
            "feedback.observation=2h",
            "--set",
            "feedback.mlflowUri=http://mlflow.ops:5000",
            "--set",
            "feedback.apply=true",
            "--set",
            "operator.prometheusUrl=http://prometheus.ops:9090",
        )
    )

    cronjob = objects["CronJob", "ops", "air-airollout-feedback"]
    assert cronjob["spec"]["schedule"] == "*/30 * * * *"
    assert args_of(objects) == [
        "feedback",
        "run",
        "--all-namespaces",
        "--policy-namespace=ops",
        "--observation=2h",
        "--prometheus=http://prometheus.ops:9090",
        "--mlflow-uri=http://mlflow.ops:5000",
        "--apply",
    ]


def test_without_apply_or_mlflow_the_flags_are_left_out() -> None:
    args = args_of(feedback_objects(rendered(*ENABLED)))

    assert "--apply" not in args
    assert not any(arg.startswith(("--mlflow-uri", "--prometheus")) for arg in args)


def test_it_writes_configmaps_only_in_the_release_namespace() -> None:
    objects = feedback_objects(
        rendered(*ENABLED, "--set", "rbac.scope=namespaces", "--set", "watchNamespaces={a,b}")
    )

    writers = {
        (namespace, name)
        for (kind, namespace, name), doc in objects.items()
        if kind in {"Role", "ClusterRole"}
        for rule in doc["rules"]
        if {"create", "update"} & set(rule["verbs"])
    }
    assert writers == {("ops", "air-airollout-feedback-policies")}
    readers = {ns for (kind, ns, _) in objects if kind == "Role" and ns in {"a", "b"}}
    assert readers == {"a", "b"}
    assert args_of(objects)[2:4] == ["--namespace=a", "--namespace=b"]
    assert not any(kind == "ClusterRole" for kind, _, _ in objects)


def test_a_bad_observation_is_refused_naming_the_value() -> None:
    result = subprocess.run(
        ["helm", "template", "air", str(CHART), *ENABLED, "--set", "feedback.observation=1d"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "/feedback/observation" in result.stderr


def test_the_apiserver_accepts_the_cronjob_and_its_rbac(
    crd_installed: Path, namespace: str
) -> None:
    values = (*ENABLED, "--set", "feedback.mlflowUri=http://mlflow:5000")
    docs = list(feedback_objects(rendered(*values, namespace=namespace)).values())
    applied = subprocess.run(
        ["kubectl", "--kubeconfig", str(crd_installed), "apply", "--dry-run=server", "-f", "-"],
        input=yaml.safe_dump_all(docs),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert applied.returncode == 0, applied.stderr
    assert "cronjob.batch/air-airollout-feedback created (server dry run)" in applied.stdout
