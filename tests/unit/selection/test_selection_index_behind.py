"""An index some commits behind the base: a file added since the index, changed now."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from airollout.adapters.selection.git import change_for_index
from airollout.core.selection.diff import ADDED, MODIFIED
from airollout.core.selection.index import Index, IndexedTest
from airollout.core.selection.plan import make_plan
from airollout.core.selection.rules import DEFAULT_RULES_ONLY

pytestmark = pytest.mark.unit


def commit(repo: Path, files: dict[str, str]) -> str:
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["add", "-A"], [*identity, "commit", "-q", "-m", "c"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True)
    return done.stdout.decode().strip()


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, str, str, str]:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    indexed = commit(tmp_path, {"calc/ops.py": "A = 1\n"})
    base = commit(tmp_path, {"calc/new.py": "B = 1\n", "calc/fresh.py": "C = 1\n"})
    head = commit(tmp_path, {"calc/new.py": "B = 2\n", "calc/newer.py": "D = 1\n"})
    return tmp_path, indexed, base, head


def test_a_file_older_than_the_change_but_newer_than_the_index_is_not_new(
    history: tuple[Path, str, str, str],
) -> None:
    repo, indexed, base, head = history
    change = change_for_index(repo, base, head, indexed)
    status = {c.path: c.status for c in change.changes}
    assert status == {"calc/new.py": MODIFIED, "calc/newer.py": ADDED}
    assert change.commits_behind == 1


def test_the_plan_runs_everything_for_it_since_no_index_knows_who_uses_it(
    history: tuple[Path, str, str, str],
) -> None:
    repo, indexed, base, head = history
    index = Index(
        revision=indexed,
        tests={"tests/test_ops.py::t": IndexedTest("tests/test_ops.py::t")},
        files=frozenset({"calc/ops.py", "tests/test_ops.py"}),
    )
    change = change_for_index(repo, base, head, indexed)
    plan = make_plan(index, change.changes, DEFAULT_RULES_ONLY, change.commits_behind)
    assert plan.full_suite
    assert "calc/new.py: the index never saw this file" in plan.reasoning
