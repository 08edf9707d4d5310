#!/usr/bin/env bash
# Compile the decision core (hack/compiled-modules) to C extensions with mypyc, in place.
#
# The rules judge decides at every window of every rollout and the benchmark holds it to
# 10,000 decisions a second on one core; interpreted it reaches about half that. The
# sources stay the truth: the extensions are built from them, unchanged, and placed beside
# them, where Python imports an extension before a source file. The sources' hashes go to
# operator/.mypyc-sources, so a test run can refuse extensions older than their sources.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
mapfile -t sources < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' hack/compiled-modules)

find operator -name '*.so' -delete
rm -f operator/.mypyc-sources
cd operator
# mypy's own settings are for checking; compiling needs none of them (the sources already
# pass strict mypy), and the pydantic plugin is not needed by these modules.
if ! "$root/.venv/bin/mypyc" --config-file /dev/null --ignore-missing-imports \
    "${sources[@]#operator/}" >"$root/.venv/mypyc.log" 2>&1; then
    tail -n 40 "$root/.venv/mypyc.log" >&2
    echo "compile: mypyc failed (full log: .venv/mypyc.log)" >&2
    exit 1
fi
cd "$root"
sha256sum "${sources[@]}" >operator/.mypyc-sources
echo "compile: ${#sources[@]} modules compiled with mypyc"
