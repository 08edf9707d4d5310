"""The head tree's static import graph, for the files a change-impact index never saw.

grimp runs in a child interpreter: it finds a package by importing its spec, and this
process may already hold its own copy of a package the repository also holds (planning
airollout's own repository, say). The graph is built once per plan, and only when a
change has a file that asks for it.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from airollout.adapters.selection.git import git
from airollout.core.selection.index import SelectionInputError
from airollout.core.selection.plan import HeadGraph, HeadGraphSource
from airollout.core.selection.rules import Rules

GRIMP_SECONDS = 120.0
_GRIMP_SCRIPT = """
import json, sys
import grimp
request = json.load(sys.stdin)
sys.path[:0] = request["roots"]
graph = grimp.build_graph(*request["packages"], cache_dir=None)
print(json.dumps({m: sorted(graph.find_downstream_modules(m)) if m in graph.modules else []
                  for m in request["modules"]}))
"""


def head_graph_source(
    repo: Path, head: str, rules: Rules, python: str = sys.executable
) -> HeadGraphSource:
    """The plan's `head_graph`: the tree at `head` (the checkout itself when it is there)."""

    def source(paths: Sequence[str]) -> HeadGraph:
        try:
            tracked = git(repo, "ls-tree", "-r", "-z", "--name-only", head).split("\0")
            test_files = frozenset(path for path in tracked if rules.is_test_file(path))
            with _tree_at(repo, head) as tree:
                return _graph(tree, paths, test_files, python)
        except SelectionInputError as error:
            return HeadGraph(error=f"the head's import graph could not be built ({error})")

    return source


def _graph(tree: Path, paths: Sequence[str], test_files: frozenset[str], python: str) -> HeadGraph:
    roots = [tree, *source_roots(tree)]
    modules = {path: name for path in paths if (name := module_of(roots, tree, path))}
    downstream = downstream_modules(python, roots, sorted(set(modules.values())))
    importers = {}
    for path, module in modules.items():
        reach = {module, *downstream.get(module, ())}
        importers[path] = frozenset(
            test for test in test_files if imports_any(roots, tree, test, reach)
        )
    return HeadGraph(importers=importers, test_files=test_files)


@contextlib.contextmanager
def _tree_at(repo: Path, head: str) -> Iterator[Path]:
    """The checkout when it is at `head` with no uncommitted Python change, else an export."""
    at_head = git(repo, "rev-parse", "HEAD").strip() == head
    if at_head and not git(repo, "status", "--porcelain", "--", "*.py").strip():
        yield repo
        return
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", head],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise SelectionInputError(f"git archive {head[:12]}: {archive.stderr.decode()[-200:]}")
    with tempfile.TemporaryDirectory(prefix="airollout-head-") as scratch:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(scratch, filter="data")
        yield Path(scratch)


def source_roots(tree: Path) -> list[Path]:
    """Top-level folders (src/, operator/, tools/) with an importable package inside; the
    root itself pytest puts on the path."""
    return [
        folder
        for folder in sorted(tree.iterdir())
        if folder.is_dir()
        and not folder.name.startswith(".")
        and any((child / "__init__.py").is_file() for child in folder.iterdir() if child.is_dir())
        and not (folder / "__init__.py").exists()
    ]


def module_of(roots: Iterable[Path], tree: Path, path: str) -> str | None:
    """The dotted name of a repository file, when every folder above it is a package."""
    file = tree / path
    for root in roots:
        try:
            parts = list(file.relative_to(root).with_suffix("").parts)
        except ValueError:
            continue
        folders = [root.joinpath(*parts[:depth]) for depth in range(1, len(parts))]
        if parts and all((folder / "__init__.py").is_file() for folder in folders):
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    return None


def package_names(roots: Iterable[Path]) -> list[str]:
    return sorted(
        {
            folder.name
            for root in roots
            for folder in root.iterdir()
            if (folder / "__init__.py").is_file() and folder.name.isidentifier()
        }
    )


def downstream_modules(
    python: str, roots: Sequence[Path], modules: Sequence[str]
) -> Mapping[str, set[str]]:
    """Every module that imports each of `modules`, directly or not (grimp, in a child)."""
    if not modules:
        return {}
    packages = package_names(roots)
    request = {"roots": [str(r) for r in roots], "packages": packages, "modules": list(modules)}
    try:
        done = subprocess.run(
            [python, "-c", _GRIMP_SCRIPT],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            cwd=roots[0],
            timeout=GRIMP_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SelectionInputError(f"grimp with {python}: {error}") from error
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise SelectionInputError(f"grimp on {', '.join(packages)}: {last[-300:]}")
    return {module: set(found) for module, found in json.loads(done.stdout).items()}


def imports_any(roots: Iterable[Path], tree: Path, test_file: str, reach: set[str]) -> bool:
    module = module_of(roots, tree, test_file)
    if module is not None and module in reach:
        return True
    # a test folder that is no package is not in grimp's graph: read its imports
    return not reach.isdisjoint(imported_names(tree / test_file))


def imported_names(path: Path) -> set[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names
