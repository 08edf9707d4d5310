"""The baselines the planner is measured against, on the same faulty changes.

run-all runs every test. File-name matching runs the tests whose file is named after a
changed module (`test_plan.py`, `test_plan_*.py`, `plan_test.py` for `plan.py`), and the
changed test files themselves. Import graph only runs the tests whose file imports a changed
module, directly or through other modules (grimp's static graph at the faulty revision).
"""

from __future__ import annotations

import ast
import json
import posixpath
import subprocess
import sys
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from airollout.core.selection.rules import Rules
from airollout_tools.bench.selection.subject import source_roots

# Run apart: grimp finds a package by importing its spec, and this process has already
# imported its own copy of packages (airollout, tests) that the worktree also holds.
_GRIMP_SCRIPT = """
import json, sys
import grimp
request = json.load(sys.stdin)
sys.path[:0] = request["roots"]
graph = grimp.build_graph(*request["packages"], cache_dir=None)
print(json.dumps({m: sorted(graph.find_downstream_modules(m)) if m in graph.modules else []
                  for m in request["modules"]}))
"""


def file_name_matches(changed: Iterable[str], universe: Collection[str], rules: Rules) -> set[str]:
    changed = list(changed)
    stems = {
        _stem(path) for path in changed if path.endswith(".py") and not rules.is_test_file(path)
    }
    changed_tests = {path for path in changed if rules.is_test_file(path)}

    def matches(test_file: str) -> bool:
        name = posixpath.basename(test_file)[: -len(".py")]
        return test_file in changed_tests or any(
            name in (f"test_{stem}", f"{stem}_test") or name.startswith(f"test_{stem}_")
            for stem in stems
        )

    return {node_id for node_id in universe if matches(node_id.split("::")[0])}


def _stem(path: str) -> str:
    name = posixpath.basename(path)[: -len(".py")]
    return posixpath.basename(posixpath.dirname(path)) if name == "__init__" else name


class ImportGraph:
    """Module names and importers of one checked-out tree, asked of grimp once."""

    def __init__(self, tree: Path, python: str = sys.executable) -> None:
        self.tree = tree
        self.python = python
        self.roots = [tree, *source_roots(tree)]
        self._downstream: dict[str, set[str]] = {}

    def module_of(self, path: str) -> str | None:
        """The dotted name of a repository file, when every folder above it is a package."""
        file = self.tree / path
        for root in self.roots:
            try:
                parts = list(file.relative_to(root).with_suffix("").parts)
            except ValueError:
                continue
            folders = [root.joinpath(*parts[:depth]) for depth in range(1, len(parts))]
            if parts and all((folder / "__init__.py").is_file() for folder in folders):
                return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        return None

    def tests_importing(self, changed: Iterable[str], universe: Collection[str]) -> set[str]:
        modules = {
            name for path in changed if path.endswith(".py") if (name := self.module_of(path))
        }
        unknown = sorted(modules - set(self._downstream))
        if unknown:
            self._downstream.update(self._ask(unknown))
        reach = set(modules).union(*(self._downstream.get(m, set()) for m in modules))
        files = {node_id.split("::")[0] for node_id in universe}
        chosen = {path for path in files if self._imports_any(path, reach)}
        return {node_id for node_id in universe if node_id.split("::")[0] in chosen}

    def _imports_any(self, test_file: str, reach: set[str]) -> bool:
        module = self.module_of(test_file)
        if module is not None and module in reach:
            return True
        # a test folder that is no package is not in grimp's graph: read its imports
        return not reach.isdisjoint(_imported_names(self.tree / test_file))

    def _ask(self, modules: list[str]) -> Mapping[str, set[str]]:
        packages = sorted(self._packages())
        request = {"roots": [str(r) for r in self.roots], "packages": packages, "modules": modules}
        done = subprocess.run(
            [self.python, "-c", _GRIMP_SCRIPT],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            cwd=self.tree,
            check=False,
        )
        if done.returncode != 0:
            print(
                f"bench selection: no import graph ({done.stderr.strip()[-200:]})", file=sys.stderr
            )
            return {module: set() for module in modules}
        return {module: set(found) for module, found in json.loads(done.stdout).items()}

    def _packages(self) -> set[str]:
        return {
            folder.name
            for root in self.roots
            for folder in root.iterdir()
            if (folder / "__init__.py").is_file() and folder.name.isidentifier()
        }


def _imported_names(path: Path) -> set[str]:
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
