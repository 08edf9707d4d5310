"""Running the subject repository's own tests with its own interpreter, at a checked-out commit.

The worktree's source folders go first on PYTHONPATH (the caller's PYTHONPATH follows), so
the tests import the commit's code, not an installed copy of the same package.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import tempfile
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from airollout.adapters.selection.build import build_index
from airollout.adapters.selection.head_graph import source_roots
from airollout.adapters.selection.junit import node_id_of, node_ids_by_key, read_results
from airollout.core.selection.index import Index, SelectionInputError

FAILED = ("failed", "error")


@dataclasses.dataclass(frozen=True)
class Subject:
    python: str
    tests: tuple[str, ...]  # pytest paths, as given

    def existing_tests(self, tree: Path) -> list[str]:
        """The test paths this revision has; none would make pytest run everything."""
        found = [path for path in self.tests if (tree / path.split("::")[0]).exists()]
        if not found:
            raise SelectionInputError(f"--tests {' '.join(self.tests)}: none exists at {tree}")
        return found


@dataclasses.dataclass(frozen=True)
class RunResult:
    failing: frozenset[str]
    timed_out: bool = False


@contextlib.contextmanager
def subject_path(tree: Path) -> Iterator[None]:
    """PYTHONPATH for the subject's interpreter while `build_index` runs it."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = _pythonpath(tree)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


def index_at(tree: Path, subject: Subject) -> Index:
    """The real `select index` code path at the worktree's checked-out commit."""
    with subject_path(tree):
        return build_index(tree, subject.python, subject.existing_tests(tree))


def run_tests(
    tree: Path, subject: Subject, node_ids: Sequence[str], known: Collection[str], timeout: float
) -> RunResult:
    """Which of the `known` tests fail when these run at the worktree as it is now; a hang
    counts as no answer, a test file that no longer imports fails all its tests."""
    with tempfile.TemporaryDirectory(prefix="airollout-bench-run-") as scratch:
        junit = Path(scratch) / "junit.xml"
        command = [subject.python, "-m", "pytest", f"--rootdir={tree}", f"--junitxml={junit}"]
        command += ["-q", "-p", "no:cacheprovider", *node_ids]
        env = {**os.environ, "PYTHONPATH": _pythonpath(tree)}
        try:
            subprocess.run(command, cwd=tree, env=env, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return RunResult(frozenset(), timed_out=True)
        if not junit.exists():
            return RunResult(frozenset(node_ids))  # collection broke: every test fails
        results = read_results(junit)
    keys = node_ids_by_key(known)
    failing = {node_id_of(case, keys) for case in results if case.outcome in FAILED}
    broken_files = {_file_of(node_id) for node_id in failing - set(known)}
    failing |= {node_id for node_id in known if node_id.split("::")[0] in broken_files}
    return RunResult(frozenset(failing & set(known)))


def _file_of(junit_id: str) -> str:
    """`tests.unit.test_x::` (a collection error's JUnit names) -> `tests/unit/test_x.py`."""
    classname = junit_id.split("::")[0]
    return classname.replace(".", "/") + ".py"


def _pythonpath(tree: Path) -> str:
    inherited = os.environ.get("PYTHONPATH")
    return os.pathsep.join(filter(None, [*map(str, source_roots(tree)), inherited]))
