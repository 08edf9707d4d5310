"""Command lines of the cluster's processes: pure functions of paths and ports.

Flags follow what envtest and kwokctl's binary runtime pass. Every component binds to
127.0.0.1 on a port picked at start, and writes nothing outside the state directory.
"""

from pathlib import Path

from localcluster.layout import Layout, Ports
from localcluster.pki import Pki

SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
POD_CIDR = "10.0.1.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
ALWAYS_ALLOWED_PATHS = "/healthz,/readyz,/livez,/metrics"
# kwok renews node leases itself; without a long lease the node controller marks the fake
# nodes NotReady after about five minutes and evicts their pods.
KWOK_NODE_LEASE_SECONDS = "40"
# kwok manages only nodes that carry this annotation, so a later node that runs Job pods
# for real (the local Job executor) can sit beside them unmanaged.
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
KWOK_NODE_ANNOTATION_VALUE = "fake"


def etcd_command(bin_dir: Path, layout: Layout, ports: Ports) -> list[str]:
    client_url = f"http://127.0.0.1:{ports.etcd_client}"
    peer_url = f"http://127.0.0.1:{ports.etcd_peer}"
    return [
        str(bin_dir / "etcd"),
        "--name=airollout-local",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client_url}",
        f"--advertise-client-urls={client_url}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=airollout-local={peer_url}",
        # Test data is disposable: skipping fsync makes every write much faster.
        "--unsafe-no-fsync=true",
        "--quota-backend-bytes=2147483648",
        "--log-level=warn",
    ]


def apiserver_command(bin_dir: Path, layout: Layout, ports: Ports, pki: Pki) -> list[str]:
    return [
        str(bin_dir / "kube-apiserver"),
        f"--etcd-servers=http://127.0.0.1:{ports.etcd_client}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={ports.apiserver}",
        f"--cert-dir={layout.cert_dir('kube-apiserver')}",
        f"--tls-cert-file={pki.serving_cert}",
        f"--tls-private-key-file={pki.key}",
        f"--client-ca-file={pki.ca_cert}",
        f"--service-account-key-file={pki.key}",
        f"--service-account-signing-key-file={pki.key}",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=true",
        # Endpoints may not hold a loopback address, and no pod could reach one anyway.
        "--endpoint-reconciler-type=none",
        # Publishes the front-proxy CA that the scheduler and controller-manager read at
        # start; without it their logs fill with "missing content for CA bundle" errors.
        f"--requestheader-client-ca-file={pki.ca_cert}",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    ]


def _component_base_flags(component: str, layout: Layout, port: int) -> list[str]:
    """Flags shared by controller-manager and scheduler: admin kubeconfig, own HTTPS port."""
    kubeconfig = str(layout.kubeconfig)
    return [
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={layout.cert_dir(component)}",
        f"--authorization-always-allow-paths={ALWAYS_ALLOWED_PATHS}",
        # One instance each: electing a leader only delays start-up by a lease period.
        "--leader-elect=false",
    ]


def controller_manager_command(bin_dir: Path, layout: Layout, ports: Ports, pki: Pki) -> list[str]:
    return [
        str(bin_dir / "kube-controller-manager"),
        *_component_base_flags("kube-controller-manager", layout, ports.controller_manager),
        f"--root-ca-file={pki.ca_cert}",
        f"--service-account-private-key-file={pki.key}",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        "--use-service-account-credentials=false",
        # The default client limit (20 requests/s) lets hundreds of rollouts' replica
        # changes queue for minutes; a real cluster's controller-manager is sized up too.
        "--kube-api-qps=200",
        "--kube-api-burst=400",
        "--concurrent-deployment-syncs=20",
        "--concurrent-replicaset-syncs=20",
    ]


def scheduler_command(bin_dir: Path, layout: Layout, ports: Ports) -> list[str]:
    return [
        str(bin_dir / "kube-scheduler"),
        *_component_base_flags("kube-scheduler", layout, ports.scheduler),
    ]


def kwok_command(bin_dir: Path, layout: Layout, ports: Ports) -> list[str]:
    return [
        str(bin_dir / "kwok"),
        f"--kubeconfig={layout.kubeconfig}",
        "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}={KWOK_NODE_ANNOTATION_VALUE}",
        f"--node-lease-duration-seconds={KWOK_NODE_LEASE_SECONDS}",
        f"--cidr={POD_CIDR}",
        "--node-ip=127.0.0.1",
        f"--server-address=127.0.0.1:{ports.kwok}",
    ]


def prometheus_command(bin_dir: Path, layout: Layout, ports: Ports) -> list[str]:
    return [
        str(bin_dir / "prometheus"),
        f"--config.file={layout.prometheus_config}",
        f"--storage.tsdb.path={layout.prometheus / 'data'}",
        f"--web.listen-address=127.0.0.1:{ports.prometheus}",
        # Lets tests reload a changed config with POST /-/reload instead of a restart.
        "--web.enable-lifecycle",
        "--storage.tsdb.retention.time=1d",
    ]
