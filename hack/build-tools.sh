#!/usr/bin/env bash
# Builds, or reuses from a per-machine cache, every binary the local cluster runs:
# kube-apiserver, kube-controller-manager, kube-scheduler and kubectl (from k8s.io/kubernetes),
# etcd, kwok and helm (from their Go modules), plus Prometheus and openssl from Debian.
# act and actionlint (Go modules too) run and check the GitHub Action (action.yml). The Argo
# Rollouts controller (its Go module) runs Rollouts whose analysis asks AIRollout's judge.
#
# Each binary is cached as $AIROLLOUT_CACHE_DIR/bin/<name>-<version>, so a second run builds
# nothing and a version bump rebuilds only that tool; bin/current/<name> links to the versions
# this checkout pins and is what hack/cluster.sh puts on PATH.
#
# Usage: hack/build-tools.sh [kube|etcd|kwok|helm|prometheus|openssl|act|actionlint|
#                             argo-rollouts|llm-server ...]
#        (default: all)
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${AIROLLOUT_CACHE_DIR:-$HOME/.cache/airollout}"
BIN_DIR="$CACHE_DIR/bin"
CURRENT_DIR="$BIN_DIR/current"

KWOK_VERSION=v0.7.0
HELM_VERSION=v3.18.6
ACT_VERSION=v0.2.89
ACTIONLINT_VERSION=v1.7.12
KUBE_TOOLS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

log() { printf '[build-tools] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The wrapper go.mod files are the one place the Kubernetes and etcd versions are pinned.
module_version() { # <go.mod> <module path>
    awk -v mod="$2" '$1 == "require" { $1 = ""; $0 = $0 }
        $1 == mod && $2 ~ /^v/ { print $2; exit }' "$1"
}

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root to run: $* (run as root or install sudo)"
    fi
}

APT_UPDATED=0
apt_install() { # <package>...
    command -v apt-get >/dev/null || die "apt-get not found; install $* by hand"
    if [[ $APT_UPDATED -eq 0 ]]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# Staging paths of builds in progress, removed on exit so an interrupted build leaves none.
STAGED=()
remove_staged() { [[ ${#STAGED[@]} -eq 0 ]] || rm -rf "${STAGED[@]}"; }
trap remove_staged EXIT
trap 'exit 130' INT TERM

new_stage() { # sets STAGE to a fresh staging directory inside the cache
    STAGE="$(mktemp -d "$BIN_DIR/.stage.XXXXXX")"
    STAGED+=("$STAGE")
}

link_current() { # <name> <target path>
    ln -sfn "$2" "$CURRENT_DIR/$1"
}

# Builds write to a staging name and are moved into the cache afterwards, so an interrupted
# build never leaves a half-written binary under a cached name.
timed_build() { # <label> <command>...
    local label=$1 start
    shift
    start=$SECONDS
    log "building $label ..."
    "$@"
    log "built $label in $((SECONDS - start))s"
    # Kept so that hack/bench-harness.sh can report the cold build once the cache is warm.
    printf '%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$label" "$((SECONDS - start))" \
        >>"$CACHE_DIR/build-times.tsv"
}

require_go() {
    command -v go >/dev/null || die "go is not on PATH; install Go >= 1.24 (see .ci/run)"
}

build_kube() {
    local version missing=() name
    version="$(module_version "$HACK_DIR/tools/kube/go.mod" k8s.io/kubernetes)"
    [[ -n $version ]] || die "no k8s.io/kubernetes version in hack/tools/kube/go.mod"
    for name in "${KUBE_TOOLS[@]}"; do
        [[ -x "$BIN_DIR/$name-$version" ]] || missing+=("$name")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "reused ${KUBE_TOOLS[*]} $version"
    else
        require_go
        local minor="${version#v1.}"
        minor="${minor%%.*}"
        local ldflags="-s -w" pkg
        for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
            ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
            ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        done
        local stage packages=()
        new_stage
        stage=$STAGE
        for name in "${missing[@]}"; do packages+=("./cmd/$name"); done
        timed_build "${missing[*]} $version" \
            env -C "$HACK_DIR/tools/kube" CGO_ENABLED=0 \
            go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$stage/" "${packages[@]}"
        for name in "${missing[@]}"; do mv "$stage/$name" "$BIN_DIR/$name-$version"; done
    fi
    for name in "${KUBE_TOOLS[@]}"; do link_current "$name" "../$name-$version"; done
}

build_etcd() {
    local version
    version="$(module_version "$HACK_DIR/tools/etcd/go.mod" go.etcd.io/etcd/server/v3)"
    [[ -n $version ]] || die "no etcd server version in hack/tools/etcd/go.mod"
    if [[ -x "$BIN_DIR/etcd-$version" ]]; then
        log "reused etcd $version"
    else
        require_go
        local stage
        new_stage
        stage=$STAGE
        timed_build "etcd $version" env -C "$HACK_DIR/tools/etcd" CGO_ENABLED=0 \
            go build -trimpath -ldflags "-s -w" -o "$stage/etcd" .
        mv "$stage/etcd" "$BIN_DIR/etcd-$version"
    fi
    link_current etcd "../etcd-$version"
}

# Upstream binds its metrics and healthz servers to every interface, with no flag to change
# it. The build uses a copy of the module with that one constant set to loopback, through an
# alternate go.mod that replaces the module with the copy (the checked-in one stays as is).
patched_source() { # <wrapper dir> <module> <stage>: writes <stage>/src and <stage>/build.mod
    local wrapper=$1 module=$2 stage=$3 source
    go -C "$wrapper" mod download "$module"
    source="$(go -C "$wrapper" list -m -f '{{.Dir}}' "$module")"
    cp -R "$source" "$stage/src"
    chmod -R u+w "$stage/src"
    local controller="$stage/src/controller/controller.go"
    grep -q '"0.0.0.0:%d"' "$controller" || die "no listen address constant in $controller"
    sed -i 's/"0\.0\.0\.0:%d"/"127.0.0.1:%d"/' "$controller"
    { cat "$wrapper/go.mod"; printf '\nreplace %s => %s\n' "$module" "$stage/src"; } \
        >"$stage/build.mod"
    cp "$wrapper/go.sum" "$stage/build.sum"
}

# Argo Rollouts' controller is a main package of a module with replace directives, so the
# wrapper module names it in a tool directive and builds it by package path. Its five CRDs
# are copied beside the binary, so a test session needs no Go module cache.
build_argo_rollouts() {
    local version module=github.com/argoproj/argo-rollouts
    version="$(module_version "$HACK_DIR/tools/argo-rollouts/go.mod" "$module")"
    [[ -n $version ]] || die "no $module version in hack/tools/argo-rollouts/go.mod"
    local binary="$BIN_DIR/argo-rollouts-$version" crds="$BIN_DIR/argo-rollouts-crds-$version"
    if [[ -x $binary && -d $crds ]]; then
        log "reused argo-rollouts $version"
    else
        require_go
        local stage wrapper="$HACK_DIR/tools/argo-rollouts"
        new_stage
        stage=$STAGE
        patched_source "$wrapper" "$module" "$stage"
        timed_build "argo-rollouts $version" env -C "$wrapper" CGO_ENABLED=0 \
            go build -trimpath -modfile "$stage/build.mod" -o "$stage/argo-rollouts" \
            -ldflags "-s -w -X $module/utils/version.version=${version#v}" \
            "$module/cmd/rollouts-controller"
        mkdir "$stage/crds"
        cp "$stage"/src/manifests/crds/*-crd.yaml "$stage/crds/"
        [[ $(find "$stage/crds" -name '*-crd.yaml' | wc -l) -eq 5 ]] ||
            die "expected five CRDs in $module/manifests/crds"
        rm -rf "$crds"
        mv "$stage/crds" "$crds"
        mv "$stage/argo-rollouts" "$binary"
    fi
    link_current argo-rollouts "../argo-rollouts-$version"
    link_current argo-rollouts-crds "../argo-rollouts-crds-$version"
}

# kwok, helm, act and actionlint have no replace directives, so 'go install module@version'
# builds them.
go_install() { # <name> <version> <package> <ldflags>
    local name=$1 version=$2 package=$3 ldflags=$4
    if [[ -x "$BIN_DIR/$name-$version" ]]; then
        log "reused $name $version"
    else
        require_go
        local stage
        new_stage
        stage=$STAGE
        timed_build "$name $version" env GOBIN="$stage" CGO_ENABLED=0 \
            go install -trimpath -ldflags "-s -w $ldflags" "$package@$version"
        mv "$stage/$name" "$BIN_DIR/$name-$version"
    fi
    link_current "$name" "../$name-$version"
}

build_kwok() {
    go_install kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok \
        "-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
}

build_helm() {
    go_install helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
        "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
}

build_act() {
    go_install act "$ACT_VERSION" github.com/nektos/act "-X main.version=${ACT_VERSION#v}"
}

build_actionlint() {
    go_install actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint \
        "-X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION"
}

# Debian's package also enables a system service on :9090; the cluster runs its own
# Prometheus on a free port, so the service is stopped to keep that port and CPU free.
install_prometheus() {
    if ! command -v prometheus >/dev/null; then
        local start=$SECONDS
        log "installing prometheus from apt ..."
        apt_install prometheus
        if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
            as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
        fi
        log "installed prometheus in $((SECONDS - start))s"
    else
        log "reused prometheus $(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }')"
    fi
    link_current prometheus "$(command -v prometheus)"
}

install_openssl() {
    if command -v openssl >/dev/null; then
        log "reused openssl"
    else
        apt_install openssl
        log "installed openssl"
    fi
}

main() {
    local tools=("$@")
    [[ ${#tools[@]} -gt 0 ]] ||
        tools=(openssl prometheus etcd kwok helm kube act actionlint argo-rollouts llm-server)
    mkdir -p "$CURRENT_DIR"
    # Two runs at once (make and a pytest session) wait for each other instead of racing.
    exec 9>"$CACHE_DIR/build.lock"
    flock 9
    local total=$SECONDS tool
    for tool in "${tools[@]}"; do
        case $tool in
            kube) build_kube ;;
            etcd) build_etcd ;;
            kwok) build_kwok ;;
            helm) build_helm ;;
            act) build_act ;;
            actionlint) build_actionlint ;;
            argo-rollouts) build_argo_rollouts ;;
            prometheus) install_prometheus ;;
            openssl) install_openssl ;;
            llm-server) "$HACK_DIR/build-llm-server.sh" >/dev/null ;; # for the LLM e2e test
            *) die "unknown tool '$tool' (kube etcd kwok helm prometheus openssl act actionlint" \
                "argo-rollouts llm-server)" ;;
        esac
    done
    log "tools ready in $CURRENT_DIR ($((SECONDS - total))s)"
}

main "$@"
