"""The Helm chart's operator Deployment run as a real pod on the local cluster: the pod
runner runs its container as a host process, with the ServiceAccount token the apiserver
projected into the pod, and that operator (in-cluster credentials, leader election in the
release namespace) carries a rollout to Succeeded.

The chart is installed unchanged by the real `helm`; a post-renderer gives its container a
command, because the pod runner has no image and so no entrypoint (the image's is
`airollout operator`), keeps its servers on loopback, and points the client's in-cluster
file names at the folder where the runner put the pod's ServiceAccount volume.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from localcluster.podrunner_volumes import SERVICE_ACCOUNT_MOUNT
from localcluster.ports import free_loopback_ports
from tests.e2e.operator_harness import create_rollout, create_target, rollout_manifest
from tests.e2e.test_helm_rbac_rollout import CHART, LEASE, finished, ok, release_namespace
from tests.e2e.test_selection_jobs import runner
from tests.support.pod_runner import RUNNER_TOLERATION, on_runner

pytestmark = pytest.mark.e2e
__all__ = ["release_namespace", "runner"]  # fixtures of other modules, used here by name

ROLLOUT_SECONDS = 300.0

# What the image's entrypoint would run, with the client's in-cluster file names moved to
# the runner's folder for the mount (there are no mount namespaces on the host).
ENTRYPOINT = """
import os, sys
from kubernetes.config import incluster_config
folder = os.environ["AIROLLOUT_SERVICEACCOUNT_DIR"]
incluster_config.SERVICE_TOKEN_FILENAME = os.path.join(folder, "token")
incluster_config.SERVICE_CERT_FILENAME = os.path.join(folder, "ca.crt")
from airollout.cli.main import main
sys.exit(main(["operator", *sys.argv[1:]]))
"""

POST_RENDERER = """
import sys, yaml
documents = [d for d in yaml.safe_load_all(sys.stdin) if d]
for document in documents:
    if document.get("kind") == "Deployment":
        container = document["spec"]["template"]["spec"]["containers"][0]
        container["command"] = [PYTHON, "-c", ENTRYPOINT]
        container["args"] += ["--metrics-address=127.0.0.1", "--health-address=127.0.0.1"]
yaml.safe_dump_all(documents, sys.stdout)
"""


def post_renderer(folder: Path) -> Path:
    script = folder / "post-render"
    body = POST_RENDERER.replace("PYTHON", repr(sys.executable)).replace(
        "ENTRYPOINT", repr(textwrap.dedent(ENTRYPOINT))
    )
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(0o755)
    return script


def values(folder: Path) -> Path:
    metrics, health = free_loopback_ports(2)
    placement = on_runner({})
    document = {
        "replicaCount": 1,
        "podDisruptionBudget": {"enabled": False},
        "metrics": {"port": metrics},
        "health": {"port": health},
        "operator": {"tick": 0.5},
        "nodeSelector": placement["nodeSelector"],
        "tolerations": [RUNNER_TOLERATION],
    }
    path = folder / "values.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_the_chart_s_operator_pod_runs_a_rollout_with_in_cluster_credentials(
    kube_api: client.ApiClient,
    namespace: str,
    release_namespace: str,
    runner: Any,
    crd_installed: Path,
    tmp_path: Path,
    eventually: Any,
) -> None:
    release = f"air-{secrets.token_hex(3)}"
    helm = ["helm", "install", release, str(CHART), "-n", release_namespace]
    ok([*helm, "-f", str(values(tmp_path)), "--post-renderer", str(post_renderer(tmp_path))])
    try:
        create_target(kube_api, namespace)
        manifest = rollout_manifest(
            "web-v2", traffic={"slices": [100]}, analysis={"interval": "5s", "warmup": "1s"}
        )
        del manifest["spec"]["onHold"]
        create_rollout(kube_api, namespace, manifest)
        status = eventually(finished(kube_api, namespace, "web-v2"), ROLLOUT_SECONDS, "the end")
        assert status["phase"] == "Succeeded", status.get("message")
        core = client.CoreV1Api(kube_api)
        [pod] = core.list_namespaced_pod(release_namespace).items
        assert pod.status.phase == "Running"
        mounts = [m.mount_path for m in pod.spec.containers[0].volume_mounts]
        assert SERVICE_ACCOUNT_MOUNT in mounts, "the apiserver projected the token into it"
        log = core.read_namespaced_pod_log(pod.metadata.name, release_namespace)
        took = f"now holds lease {release_namespace}/{LEASE}"
        assert took in log, "this pod's operator, as the chart's ServiceAccount, led"
        lease = client.CoordinationV1Api(kube_api).read_namespaced_lease(LEASE, release_namespace)
        # The pod runs on the host, so its hostname is the host's: the identity it leads under.
        assert (lease.spec.holder_identity or "").startswith(f"{socket.gethostname()}_")
    finally:
        subprocess.run(["helm", "uninstall", release, "-n", release_namespace], timeout=120)
