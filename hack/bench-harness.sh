#!/usr/bin/env bash
# Prints how long the harness takes: building the tools (or that they were reused, with the
# cold build times recorded when the cache was filled), then starting the local cluster with
# the binaries cached (target: under 60 s to a Ready node, Prometheus ready and the default
# ServiceAccount present), then stopping it. Uses its own state directory, so a cluster you
# started with hack/cluster.sh is left alone.
#
#   BENCH_RUNS=N      cluster start/stop cycles to time (default 2)
#   BENCH_COLD=1      build everything into empty Go and tool caches under a temporary
#                     directory first: a true cold build, tens of minutes on 2 cores
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${AIROLLOUT_CACHE_DIR:-$HOME/.cache/airollout}"
RUNS="${BENCH_RUNS:-2}"
STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/airollout-bench.XXXXXX")"

cleanup() {
    AIROLLOUT_CLUSTER_DIR="$STATE_DIR" "$HACK_DIR/cluster.sh" down >/dev/null 2>&1 || true
    rm -rf "$STATE_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if [[ ${BENCH_COLD:-0} == 1 ]]; then
    cold="$(mktemp -d "${TMPDIR:-/tmp}/airollout-cold.XXXXXX")"
    echo "== cold build into empty caches under $cold"
    export GOCACHE="$cold/go-build" GOMODCACHE="$cold/go-mod" AIROLLOUT_CACHE_DIR="$cold/airollout"
    CACHE_DIR="$AIROLLOUT_CACHE_DIR"
fi

echo "== tools"
start="$(now)"
build_log="$("$HACK_DIR/build-tools.sh" 2>&1)" || { echo "$build_log"; exit 1; }
echo "$build_log" | sed 's/^/   /'
if grep -q '\] built ' <<<"$build_log"; then
    echo "tools: built in $(elapsed "$start")s (this run)"
else
    echo "tools: all reused from $CACHE_DIR/bin in $(elapsed "$start")s"
    if [[ -s "$CACHE_DIR/build-times.tsv" ]]; then
        echo "cold build times recorded when the cache was filled (seconds):"
        awk -F'\t' '{ printf "   %6ss  %s  (%s)\n", $3, $2, $1 }' "$CACHE_DIR/build-times.tsv"
    fi
fi

echo "== cluster (binaries cached; target < 60s to Ready node + Prometheus + default SA)"
for run in $(seq 1 "$RUNS"); do
    start="$(now)"
    if ! up_log="$(AIROLLOUT_CLUSTER_DIR="$STATE_DIR" "$HACK_DIR/cluster.sh" up 2>&1 >/dev/null)"; then
        echo "$up_log"
        exit 1
    fi
    up_seconds="$(elapsed "$start")"
    start="$(now)"
    AIROLLOUT_CLUSTER_DIR="$STATE_DIR" "$HACK_DIR/cluster.sh" down 2>/dev/null
    echo "run $run: cluster ready in ${up_seconds}s, stopped in $(elapsed "$start")s"
done

echo "== disk used by caches"
du -sh "$CACHE_DIR" "$(go env GOMODCACHE 2>/dev/null)" "$(go env GOCACHE 2>/dev/null)" 2>/dev/null \
    | sed 's/^/   /' || true
