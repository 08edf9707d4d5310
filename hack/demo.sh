#!/usr/bin/env bash
# The demo: brings up the local cluster, shows it, and tears it down on exit or Ctrl-C.
# The rollout itself (an AIRollout moving traffic 10 -> 25 -> 50 -> 100 % while the judge
# reads Prometheus) needs the operator, which is not built yet; this says so plainly.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# A state directory of its own, so a cluster started with hack/cluster.sh is left alone.
export AIROLLOUT_CLUSTER_DIR="${AIROLLOUT_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/airollout-demo.XXXXXX")}"

teardown() {
    echo "== tearing down"
    "$HACK_DIR/cluster.sh" down || true
}
trap teardown EXIT
trap 'exit 130' INT TERM

echo "== starting the local cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok, Prometheus)"
eval "$("$HACK_DIR/cluster.sh" up)"
echo "KUBECONFIG=$KUBECONFIG"
echo "PROMETHEUS_URL=$PROMETHEUS_URL"

echo "== kubectl version"
kubectl version
echo "== kubectl get nodes"
kubectl get nodes -o wide
echo "== a Deployment of 3 replicas on the kwok node"
kubectl create deployment demo --image=registry.k8s.io/pause:3.10 --replicas=3
kubectl rollout status deployment/demo --timeout=60s
kubectl get pods -o wide

cat <<'NOTE'
== not built yet
The rollout demo is not built yet: the operator that moves traffic and asks the judge is a
later issue. What ran above is the real control plane the demo will use.
NOTE
