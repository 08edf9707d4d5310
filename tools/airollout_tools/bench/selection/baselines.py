"""The baselines the planner is measured against, on the same faulty changes.

run-all runs every test. File-name matching runs the tests whose file is named after a
changed module (`test_plan.py`, `test_plan_*.py`, `plan_test.py` for `plan.py`), and the
changed test files themselves. Import graph only runs the tests whose file imports a changed
module, directly or through other modules (grimp's static graph at the faulty revision).
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from airollout.adapters.selection.head_graph import (
    downstream_modules,
    imports_any,
    module_of,
    source_roots,
)
from airollout.core.selection.index import SelectionInputError
from airollout.core.selection.rules import Rules, named_after


def file_name_matches(changed: Iterable[str], universe: Collection[str], rules: Rules) -> set[str]:
    changed = list(changed)
    modules = [path for path in changed if path.endswith(".py") and not rules.is_test_file(path)]
    changed_tests = {path for path in changed if rules.is_test_file(path)}

    def matches(test_file: str) -> bool:
        return test_file in changed_tests or any(named_after(test_file, m) for m in modules)

    return {node_id for node_id in universe if matches(node_id.split("::")[0])}


class ImportGraph:
    """Module names and importers of one checked-out tree, asked of grimp once."""

    def __init__(self, tree: Path, python: str = sys.executable) -> None:
        self.tree = tree
        self.python = python
        self.roots = [tree, *source_roots(tree)]
        self._downstream: dict[str, set[str]] = {}

    def module_of(self, path: str) -> str | None:
        return module_of(self.roots, self.tree, path)

    def tests_importing(self, changed: Iterable[str], universe: Collection[str]) -> set[str]:
        modules = {
            name for path in changed if path.endswith(".py") if (name := self.module_of(path))
        }
        unknown = sorted(modules - set(self._downstream))
        if unknown:
            self._downstream.update(self._ask(unknown))
        reach = set(modules).union(*(self._downstream.get(m, set()) for m in modules))
        files = {node_id.split("::")[0] for node_id in universe}
        chosen = {path for path in files if imports_any(self.roots, self.tree, path, reach)}
        return {node_id for node_id in universe if node_id.split("::")[0] in chosen}

    def _ask(self, modules: list[str]) -> Mapping[str, set[str]]:
        try:
            return downstream_modules(self.python, self.roots, modules)
        except SelectionInputError as error:
            print(f"bench selection: no import graph ({error})", file=sys.stderr)
            return {module: set() for module in modules}
