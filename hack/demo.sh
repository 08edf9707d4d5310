#!/usr/bin/env bash
# The demo: a real rollout on a real (local) control plane, judged from a real Prometheus.
#
#   1. start the local cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok,
#      Prometheus) in a state directory of its own, and install the AIRollout CRD;
#   2. in namespaces demo-good and demo-bad: Deployment `web` (10 replicas) and a simulated
#      workload that serves a scenario file, scraped by Prometheus;
#   3. run the operator in the background;
#   4. roll out a new image in demo-good (the canary is healthy: it is promoted) and then in
#      demo-bad (the canary fails 8 % of requests: it is rolled back), following each live;
#   5. print a summary, and exit 0 only if both ended as they should.
# Everything started here is stopped on exit, error or Ctrl-C; the logs are kept.
#
# Environment: AIROLLOUT_DEMO_DIR (default: a new temp dir) holds the cluster state (removed
# at the end) and the logs (kept); AIROLLOUT_SCENARIOS (default: the repository's scenarios/).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$HACK_DIR")"
AIROLLOUT="$REPO_DIR/.venv/bin/airollout"
PYTHON="$REPO_DIR/.venv/bin/python"
SCENARIOS="${AIROLLOUT_SCENARIOS:-$REPO_DIR/scenarios}"
DEMO_DIR="${AIROLLOUT_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/airollout-demo.XXXXXX")}"
# The cluster lives in a directory of its own, so one started with hack/cluster.sh is left
# alone, and `cluster.sh down` (which removes its state) leaves the logs beside it.
export AIROLLOUT_CLUSTER_DIR="$DEMO_DIR/cluster"
LOG_DIR="$DEMO_DIR/logs"
CRD="$REPO_DIR/crds/airollout.dev_airollouts.yaml"

ROLLOUT=web-v2                # the AIRollout's name in both namespaces (examples/demo/)
GOOD_NS=demo-good
BAD_NS=demo-bad
STABLE_IMAGE=registry.k8s.io/pause:3.10
REPLICAS=10
WATCH_SECONDS=180             # a rollout that has not ended by then is a failed demo

CHILD_PIDS=()                 # the operator and the workloads, stopped by cleanup

section() { printf '\n=== %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

# ---- clean-up ------------------------------------------------------------------------------

stop_children() {
    local pid
    for pid in "${CHILD_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    # Give each a few seconds to exit cleanly; whatever is left is killed, so no process
    # outlives the demo.
    for _ in $(seq 50); do
        local alive=0
        for pid in "${CHILD_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [[ $alive == 0 ]] && break
        sleep 0.1
    done
    for pid in "${CHILD_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${CHILD_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    section "cleaning up: operator, workloads, cluster"
    stop_children
    "$HACK_DIR/cluster.sh" down || true
    echo "logs kept in $LOG_DIR"
    exit "$status"
}
trap cleanup EXIT
# Background children of a non-interactive shell ignore Ctrl-C; exiting runs cleanup,
# which stops them by pid.
trap 'exit 130' INT TERM

# ---- waiting -------------------------------------------------------------------------------

wait_for() { # <seconds> <what> <command...>: poll until the command succeeds
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        ((SECONDS < deadline)) || die "timed out after ${seconds}s waiting for $what"
        sleep 0.5
    done
}

listening() { # <pid> <log>: true once the workload says where it listens; dies if it exited
    if ! kill -0 "$1" 2>/dev/null; then
        tail -n 20 "$2" >&2
        die "the workload exited; its log: $2"
    fi
    grep -q '^listening on http://' "$2"
}

prometheus_has() { # <PromQL>: true once the query's result is not empty
    "$PYTHON" - "$PROMETHEUS_URL" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = f"{sys.argv[1]}/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
try:
    with urllib.request.urlopen(url, timeout=2) as answer:
        sys.exit(0 if json.load(answer)["data"]["result"] else 1)
except (OSError, ValueError, KeyError):
    sys.exit(1)
PY
}

# ---- setup ---------------------------------------------------------------------------------

check_prerequisites() {
    [[ -x $AIROLLOUT ]] || die "$AIROLLOUT is missing: run 'make install' (or 'make demo')"
    [[ -d $SCENARIOS ]] || die "no scenario folder at $SCENARIOS; set AIROLLOUT_SCENARIOS"
    mkdir -p "$LOG_DIR"
}

start_cluster() {
    section "starting the local cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok, Prometheus)"
    local exports
    # Assigned first, so a failed start stops the demo (eval of empty output would not).
    exports="$("$HACK_DIR/cluster.sh" up)"
    eval "$exports"
    echo "KUBECONFIG=$KUBECONFIG"
    echo "PROMETHEUS_URL=$PROMETHEUS_URL"
    kubectl get nodes
}

install_crd() {
    section "installing the AIRollout CRD"
    kubectl apply -f "$CRD"
    kubectl wait --for condition=established --timeout=30s crd/airollouts.airollout.dev
}

create_target() { # <namespace>: the Deployment the rollout will change
    kubectl create namespace "$1"
    kubectl -n "$1" create deployment web --image="$STABLE_IMAGE" --replicas="$REPLICAS"
    kubectl -n "$1" rollout status deployment/web --timeout=60s
}

start_workload() { # <namespace> <scenario>: serve the scenario and have Prometheus scrape it
    local namespace=$1 scenario=$2 log="$LOG_DIR/workload-$1.log"
    "$AIROLLOUT" workload --scenario "$SCENARIOS/$scenario.yaml" --namespace "$namespace" \
        --target web --rps 600 --host 127.0.0.1 --port 0 --kubeconfig "$KUBECONFIG" \
        >"$log" 2>&1 &
    CHILD_PIDS+=($!)
    wait_for 60 "the $namespace workload to listen" listening "${CHILD_PIDS[-1]}" "$log"
    local address
    address="$(sed -n 's|^listening on http://||p' "$log" | head -n1)"
    register_scrape_target "workload-$namespace" "$address"
    # The first window must see both versions' counters, or it holds for lack of data.
    wait_for 60 "Prometheus to scrape the $namespace workload" \
        prometheus_has "http_requests_total{namespace=\"$namespace\",deployment=\"web\"}"
    echo "workload for $namespace ($scenario) at $address, scraped by Prometheus; log: $log"
}

register_scrape_target() { # <job> <host:port>: a file_sd file, which Prometheus re-reads each second
    local targets="$AIROLLOUT_CLUSTER_DIR/prometheus/targets"
    # Written aside and renamed, so Prometheus never reads half a file.
    printf '[{"targets": ["%s"], "labels": {"job": "%s"}}]\n' "$2" "$1" >"$targets/.$1.json.tmp"
    mv "$targets/.$1.json.tmp" "$targets/$1.json"
}

start_operator() {
    section "starting the operator"
    local log="$LOG_DIR/operator.log"
    "$AIROLLOUT" operator --kubeconfig "$KUBECONFIG" --prometheus-url "$PROMETHEUS_URL" \
        --namespace "$GOOD_NS" --namespace "$BAD_NS" --metrics-port 0 --health-port 0 --tick 0.5 \
        >"$log" 2>&1 &
    CHILD_PIDS+=($!)
    sleep 1
    kill -0 "${CHILD_PIDS[-1]}" || die "the operator exited at once; see $log"
    echo "operator running (pid ${CHILD_PIDS[-1]}); its log: $log"
}

# ---- the rollouts --------------------------------------------------------------------------

run_rollout() { # <namespace> <manifest>: apply it and follow it live until it ends
    local namespace=$1 manifest=$2
    kubectl apply -f "$manifest"
    # watch prints each phase and traffic change and every decision with its reasoning; its
    # exit status (0 Succeeded, 1 RolledBack) is not the verdict: the summary checks phases.
    "$AIROLLOUT" watch "$ROLLOUT" -n "$namespace" --timeout "$WATCH_SECONDS" || true
}

# ---- the summary ---------------------------------------------------------------------------

phase_of() { kubectl -n "$1" get air "$ROLLOUT" -o jsonpath='{.status.phase}'; }

describe_outcome() { # <namespace>: one line on what the rollout left behind
    local namespace=$1 actions image replicas
    actions="$(kubectl -n "$namespace" get air "$ROLLOUT" \
        -o jsonpath='{range .status.decisions[*]}{.action} {end}')"
    image="$(kubectl -n "$namespace" get deploy web \
        -o jsonpath='{.spec.template.spec.containers[0].image}')"
    replicas="$(kubectl -n "$namespace" get deploy web \
        -o jsonpath='{.status.readyReplicas}/{.spec.replicas} ready')"
    printf '%-10s %-11s web: %s, %s; decisions (%d): %s\n' "$namespace" \
        "$(phase_of "$namespace")" "$image" "$replicas" "$(wc -w <<<"$actions")" "${actions% }"
}

summarize() {
    section "summary: the rollouts"
    kubectl get air -A
    section "summary: the Deployments (no web-canary should be left)"
    kubectl get deploy -A
    local namespace
    for namespace in "$GOOD_NS" "$BAD_NS"; do
        # watch printed every decision in full already; the newest one is enough here.
        section "summary: airollout status $ROLLOUT -n $namespace --decisions 1"
        "$AIROLLOUT" status "$ROLLOUT" -n "$namespace" --decisions 1
    done
    section "outcome"
    describe_outcome "$GOOD_NS"
    describe_outcome "$BAD_NS"
}

verdict() {
    local good bad
    good="$(phase_of "$GOOD_NS")"
    bad="$(phase_of "$BAD_NS")"
    if [[ $good == Succeeded && $bad == RolledBack ]]; then
        echo "DEMO PASSED: the healthy canary was promoted and the failing one rolled back."
        return 0
    fi
    echo "DEMO FAILED: expected Succeeded and RolledBack, got '$good' and '$bad';" \
        "see $LOG_DIR/operator.log"
    return 1
}

main() {
    local started=$SECONDS
    check_prerequisites
    start_cluster
    install_crd
    section "the target Deployments and their simulated traffic"
    create_target "$GOOD_NS"
    create_target "$BAD_NS"
    start_workload "$GOOD_NS" steady-twins
    start_workload "$BAD_NS" broken-from-first-pod
    start_operator
    section "rollout 1 of 2: a healthy canary in $GOOD_NS (examples/demo/healthy-rollout.yaml)"
    run_rollout "$GOOD_NS" "$REPO_DIR/examples/demo/healthy-rollout.yaml"
    section "rollout 2 of 2: a canary failing 8 % of requests in $BAD_NS (examples/demo/failing-rollout.yaml)"
    run_rollout "$BAD_NS" "$REPO_DIR/examples/demo/failing-rollout.yaml"
    summarize
    echo "demo ran for $((SECONDS - started))s"
    verdict
}

main "$@"
