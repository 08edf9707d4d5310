"""A real Kubernetes control plane on loopback, without containers.

Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (fake nodes) and
Prometheus from the binaries that hack/build-tools.sh caches, the way envtest and kwokctl's
binary runtime do. hack/cluster.sh and the pytest fixtures both drive it through `up`,
`down` and `read_running`, so the tests run on exactly what a developer starts by hand.

Standard library only, and no import of airollout: it is a tool for the tests, not part of
the operator.
"""

from localcluster.cluster import ClusterError, ClusterInfo, down, read_running, up
from localcluster.prometheus import write_scrape_target

__all__ = ["ClusterError", "ClusterInfo", "down", "read_running", "up", "write_scrape_target"]
