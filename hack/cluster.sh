#!/usr/bin/env bash
# Local Kubernetes control plane + kwok + Prometheus on loopback ports.
#   eval "$(hack/cluster.sh up)"   start; prints only export lines (KUBECONFIG, PROMETHEUS_URL, PATH)
#   hack/cluster.sh env             reprint the exports of the running cluster
#   hack/cluster.sh down            stop exactly the processes `up` started; remove the state
# State lives in $AIROLLOUT_CLUSTER_DIR (default <repo>/.cluster); binaries come from
# hack/build-tools.sh ($AIROLLOUT_BIN_DIR, default ~/.cache/airollout/bin/current).
set -euo pipefail
HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-$(command -v python3)}"
PYTHONPATH="$HACK_DIR${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m localcluster "$@"
