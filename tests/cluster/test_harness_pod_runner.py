"""The pod runner really runs Jobs: the real Job controller, scheduler and apiserver, and a
Node whose pods are host processes (hack/localcluster/podrunner.py)."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.pod_runner import PodRunner, on_runner, pod_runner

pytestmark = [pytest.mark.cluster, pytest.mark.harness]

JOB_SECONDS = 60.0
# Pods run host commands: this interpreter has the kubernetes client the token test needs.
PYTHON = sys.executable


@pytest.fixture(scope="module")
def runner(cluster: Any) -> Iterator[PodRunner]:
    with pod_runner(cluster) as started:
        yield started


def _container(command: list[str], **extra: Any) -> dict[str, Any]:
    # The image is never pulled: the runner runs `command` on the host.
    return {"name": "main", "image": "example.invalid/ignored:0", "command": command, **extra}


def _job(name: str, containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    pod_spec = on_runner(
        {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1, "containers": containers}
    )
    pod_spec.update(spec.pop("pod", {}))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"backoffLimit": 0, **spec, "template": {"spec": pod_spec}},
    }


def _python(code: str) -> list[str]:
    return [PYTHON, "-c", textwrap.dedent(code)]


def _finished(batch: client.BatchV1Api, namespace: str, name: str) -> Any:
    """The Job's Complete or Failed condition once it has one."""
    status = batch.read_namespaced_job_status(name, namespace).status
    for condition in status.conditions or []:
        if condition.type in ("Complete", "Failed") and condition.status == "True":
            return condition
    return None


def _run_job(kube_api: client.ApiClient, namespace: str, job: dict[str, Any], eventually: Any):
    batch = client.BatchV1Api(kube_api)
    batch.create_namespaced_job(namespace, job)
    name = job["metadata"]["name"]
    return eventually(lambda: _finished(batch, namespace, name), JOB_SECONDS, f"Job {name} ends")


def _pods(kube_api: client.ApiClient, namespace: str, job: str) -> list[client.V1Pod]:
    core = client.CoreV1Api(kube_api)
    return core.list_namespaced_pod(namespace, label_selector=f"job-name={job}").items


def _terminated(pod: client.V1Pod, container: str = "main") -> Any:
    (status,) = [s for s in pod.status.container_statuses if s.name == container]
    return status.state.terminated


def test_a_job_that_writes_its_termination_message_succeeds_and_the_message_is_read_back(
    runner: PodRunner, kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    # The message path lies under an emptyDir's mountPath: it maps into the volume's folder.
    script = 'echo "hello from $HOSTNAME"; printf done > "$AIROLLOUT_VOLUME_WORK/msg"'
    command = ["sh", "-c", script]
    main = _container(
        command,
        terminationMessagePath="/work/msg",
        volumeMounts=[{"name": "work", "mountPath": "/work"}],
    )
    job = _job("hello", [main], pod={"volumes": [{"name": "work", "emptyDir": {}}]})

    condition = _run_job(kube_api, namespace, job, eventually)

    assert condition.type == "Complete"
    (pod,) = _pods(kube_api, namespace, "hello")
    assert pod.spec.node_name == runner.node
    assert pod.status.phase == "Succeeded"
    assert _terminated(pod).exit_code == 0
    assert _terminated(pod).message == "done"
    # `kubectl logs` reads it through the runner's kubelet endpoint.
    logs = client.CoreV1Api(kube_api).read_namespaced_pod_log(pod.metadata.name, namespace)
    assert logs == f"hello from {pod.metadata.name}\n"


def test_exit_3_with_backoff_limit_1_fails_the_job_after_two_pods(
    runner: PodRunner, kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    job = _job("exit3", [_container(["sh", "-c", "exit 3"])], backoffLimit=1)

    condition = _run_job(kube_api, namespace, job, eventually)

    assert (condition.type, condition.reason) == ("Failed", "BackoffLimitExceeded")
    pods = _pods(kube_api, namespace, "exit3")
    assert len(pods) == 2
    assert {pod.status.phase for pod in pods} == {"Failed"}
    assert [_terminated(pod).exit_code for pod in pods] == [3, 3]


def test_an_indexed_job_runs_every_index_once_and_each_pod_sees_its_own(
    runner: PodRunner, kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    annotation = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    code = """
        import os
        message = f"{os.environ['JOB_COMPLETION_INDEX']}/{os.environ['FROM_ANNOTATION']}"
        open(os.environ["AIROLLOUT_TERMINATION_MESSAGE_PATH"], "w").write(message)
    """
    env = [{"name": "FROM_ANNOTATION", "valueFrom": {"fieldRef": {"fieldPath": annotation}}}]
    job = _job(
        "indexed",
        [_container(_python(code), env=env)],
        completionMode="Indexed",
        completions=3,
        parallelism=2,
    )

    condition = _run_job(kube_api, namespace, job, eventually)

    assert condition.type == "Complete"
    pods = _pods(kube_api, namespace, "indexed")
    messages = sorted(_terminated(pod).message for pod in pods)
    assert messages == ["0/0", "1/1", "2/2"]


def test_active_deadline_fails_the_job_and_kills_a_process_that_ignores_sigterm(
    runner: PodRunner,
    kube_api: client.ApiClient,
    namespace: str,
    eventually: Any,
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "sleeper.pid"
    code = f"""
        import os, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL, after the grace, ends it
        open({str(pid_file)!r}, "w").write(str(os.getpid()))
        time.sleep(600)
    """
    job = _job("sleeper", [_container(_python(code))], activeDeadlineSeconds=2)

    condition = _run_job(kube_api, namespace, job, eventually)

    assert (condition.type, condition.reason) == ("Failed", "DeadlineExceeded")
    pid = int(eventually(pid_file.read_text, 5.0, "the sleeper's pid"))
    eventually(lambda: not _alive(pid), 10.0, f"process {pid} to be gone")
    # The runner deletes the pod for good once its process is gone.
    eventually(lambda: not _pods(kube_api, namespace, "sleeper"), 10.0, "the pod to be removed")


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_env_comes_from_a_secret_a_config_map_field_refs_and_env_from(
    runner: PodRunner, kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_secret(
        namespace, {"metadata": {"name": "creds"}, "stringData": {"token": "s3cret"}}
    )
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "settings"}, "data": {"level": "debug", "mode": "fast"}}
    )
    env = [
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
        {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}},
        _field("POD_NAME", "metadata.name"),
        _field("POD_NAMESPACE", "metadata.namespace"),
        _field("JOB_LABEL", "metadata.labels['job-name']"),
        _field("NODE", "spec.nodeName"),
        _field("POD_IP", "status.podIP"),
        {"name": "GREETING", "value": "hi $(POD_NAME)"},
    ]
    env_from = [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}]
    names = [v["name"] for v in env] + ["CFG_mode", "KUBECONFIG"]
    code = f"""
        import json, os
        seen = {{name: os.environ.get(name) for name in {names!r}}}
        open(os.environ["AIROLLOUT_TERMINATION_MESSAGE_PATH"], "w").write(json.dumps(seen))
    """
    job = _job("env", [_container(_python(code), env=env, envFrom=env_from)])

    assert _run_job(kube_api, namespace, job, eventually).type == "Complete"

    (pod,) = _pods(kube_api, namespace, "env")
    seen = json.loads(_terminated(pod).message)
    assert seen == {
        "TOKEN": "s3cret",
        "LEVEL": "debug",
        "POD_NAME": pod.metadata.name,
        "POD_NAMESPACE": namespace,
        "JOB_LABEL": "env",
        "NODE": runner.node,
        "POD_IP": "127.0.0.1",
        "GREETING": f"hi {pod.metadata.name}",
        "CFG_mode": "fast",
        # The runner's admin kubeconfig never reaches a pod.
        "KUBECONFIG": None,
    }


def _field(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def test_fallback_to_logs_on_error_reports_the_log_tail_only_where_asked(
    runner: PodRunner, kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    failing = ["sh", "-c", "echo starting; echo 'cannot open the model' >&2; exit 2"]
    with_fallback = _container(failing, terminationMessagePolicy="FallbackToLogsOnError")
    without = {**_container(failing), "name": "plain"}
    job = _job("fallback", [with_fallback, without])

    assert _run_job(kube_api, namespace, job, eventually).type == "Failed"

    (pod,) = _pods(kube_api, namespace, "fallback")
    assert _terminated(pod, "main").message == "starting\ncannot open the model\n"
    assert _terminated(pod, "plain").message is None
    assert _terminated(pod, "plain").exit_code == 2


def test_an_in_cluster_client_authenticates_as_the_pods_service_account(
    runner: PodRunner, kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    code = """
        import os
        from kubernetes import client, config
        folder = os.environ["AIROLLOUT_SERVICEACCOUNT_DIR"]
        config.incluster_config.InClusterConfigLoader(
            token_filename=f"{folder}/token", cert_filename=f"{folder}/ca.crt"
        ).load_and_set()
        review = client.AuthenticationV1Api().create_self_subject_review({})
        namespace = open(f"{folder}/namespace").read()
        message = f"{review.status.user_info.username} {namespace}"
        open(os.environ["AIROLLOUT_TERMINATION_MESSAGE_PATH"], "w").write(message)
    """
    job = _job("whoami", [_container(_python(code))])

    assert _run_job(kube_api, namespace, job, eventually).type == "Complete"

    (pod,) = _pods(kube_api, namespace, "whoami")
    assert _terminated(pod).message == f"system:serviceaccount:{namespace}:default {namespace}"


def test_a_pod_without_the_toleration_never_lands_on_the_runners_node(
    runner: PodRunner, kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    core = client.CoreV1Api(kube_api)
    spec = on_runner({"containers": [_container(["true"])]})
    del spec["tolerations"]
    core.create_namespaced_pod(namespace, {"metadata": {"name": "intruder"}, "spec": spec})

    def unschedulable() -> bool:
        pod = core.read_namespaced_pod("intruder", namespace)
        return any(
            c.type == "PodScheduled" and c.reason == "Unschedulable"
            for c in pod.status.conditions or []
        )

    eventually(unschedulable, 30.0, "the scheduler to give up on the pod")
    pod = core.read_namespaced_pod("intruder", namespace)
    assert pod.spec.node_name is None
    assert pod.status.phase == "Pending"


def test_init_containers_run_in_order_before_the_container_sharing_an_empty_dir(
    runner: PodRunner, kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    mounts = [{"name": "shared", "mountPath": "/shared"}]
    append = 'echo {} >> "$AIROLLOUT_VOLUME_SHARED/order"'
    inits = [
        {**_container(["sh", "-c", append.format(step)], volumeMounts=mounts), "name": step}
        for step in ("first", "second")
    ]
    report = 'cat "$AIROLLOUT_VOLUME_SHARED/order" > "$AIROLLOUT_TERMINATION_MESSAGE_PATH"'
    main = _container(["sh", "-c", report], volumeMounts=mounts)
    pod = {"initContainers": inits, "volumes": [{"name": "shared", "emptyDir": {}}]}

    job = _job("inits", [main], pod=pod)

    assert _run_job(kube_api, namespace, job, eventually).type == "Complete"

    (done,) = _pods(kube_api, namespace, "inits")
    assert _terminated(done).message == "first\nsecond\n"
    assert [s.state.terminated.exit_code for s in done.status.init_container_statuses] == [0, 0]


def test_on_failure_restarts_the_container_in_the_same_pod_until_it_succeeds(
    runner: PodRunner, kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    # The emptyDir outlives a container's restart: the second run finds the first's mark.
    mark = '"$AIROLLOUT_VOLUME_STATE/tried"'
    script = f"test -e {mark} && exit 0; touch {mark}; exit 1"
    main = _container(["sh", "-c", script], volumeMounts=[{"name": "state", "mountPath": "/s"}])
    pod = {"restartPolicy": "OnFailure", "volumes": [{"name": "state", "emptyDir": {}}]}
    job = _job("retry", [main], backoffLimit=2, pod=pod)

    assert _run_job(kube_api, namespace, job, eventually).type == "Complete"

    (done,) = _pods(kube_api, namespace, "retry")
    (status,) = done.status.container_statuses
    assert done.status.phase == "Succeeded"
    assert status.restart_count == 1
    assert status.last_state.terminated.exit_code == 1
    assert status.state.terminated.exit_code == 0
