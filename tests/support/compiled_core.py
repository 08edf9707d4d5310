"""The compiled decision core: which modules hack/compile.sh builds, and whether they are fresh.

hack/compile.sh writes the sha256 of every source it compiled to operator/.mypyc-sources; an
extension is stale when its sources no longer hash the same.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULE_LIST = REPO_ROOT / "hack" / "compiled-modules"
SOURCE_HASHES = REPO_ROOT / "operator" / ".mypyc-sources"


def compiled_sources() -> list[str]:
    """The sources hack/compile.sh compiles, relative to the repository root."""
    lines = (line.split("#", 1)[0].strip() for line in MODULE_LIST.read_text().splitlines())
    return [line for line in lines if line]


def module_name(source: str) -> str:
    """`operator/airollout/core/analysis/bounds.py` -> `airollout.core.analysis.bounds`."""
    return ".".join(Path(source).relative_to("operator").with_suffix("").parts)


def is_extension(path: str | None) -> bool:
    return path is not None and path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def stale_sources() -> list[str]:
    """Compiled sources edited since they were compiled (none when nothing was compiled)."""
    if not SOURCE_HASHES.exists():
        return []
    recorded = {}
    for line in SOURCE_HASHES.read_text().splitlines():
        digest, _, source = line.partition("  ")
        recorded[source] = digest
    return [
        source
        for source in compiled_sources()
        if recorded.get(source) != hashlib.sha256((REPO_ROOT / source).read_bytes()).hexdigest()
    ]
