"""Reading `git diff --unified=0 -M` and matching rule patterns."""

from __future__ import annotations

import pytest

from airollout.core.selection.diff import ADDED, DELETED, MODIFIED, RENAMED, parse_unified_diff
from airollout.core.selection.index import junit_key
from airollout.core.selection.rules import glob_matches

pytestmark = pytest.mark.unit

DIFF = """\
diff --git a/calc/ops.py b/calc/ops.py
index 1..2 100644
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -3 +3 @@ def add(a, b):
-    return a + b
+    return a - b
@@ -9,0 +10,2 @@ def sub(a, b):
+x = 1
+y = 2
@@ -20,3 +21,0 @@
-a
-b
-c
diff --git a/old name.py b/new name.py
similarity index 90%
rename from old name.py
rename to new name.py
diff --git a/gone.py b/gone.py
deleted file mode 100644
--- a/gone.py
+++ /dev/null
@@ -1,2 +0,0 @@
-a
-b
diff --git a/new.py b/new.py
new file mode 100644
--- /dev/null
+++ b/new.py
@@ -0,0 +1 @@
+print()
"""


def test_removed_lines_and_insertions_are_in_base_numbers() -> None:
    ops, renamed, gone, new = parse_unified_diff(DIFF)
    assert (ops.path, ops.status) == ("calc/ops.py", MODIFIED)
    assert ops.removed == {3, 20, 21, 22}
    assert ops.inserted_after == {9}
    assert ops.base_lines() == {3, 9, 10, 20, 21, 22}
    assert (renamed.old_path, renamed.path, renamed.status) == (
        "old name.py",
        "new name.py",
        RENAMED,
    )
    assert (gone.path, gone.status, gone.removed) == ("gone.py", DELETED, {1, 2})
    assert (new.path, new.status, new.base_lines()) == ("new.py", ADDED, {1})


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("conftest.py", "tests/unit/conftest.py", True),
        ("*.lock", "uv.lock", True),
        (".github/**", ".github/workflows/ci.yml", True),
        ("docs/**", "src/docs/x.md", False),
        ("**/data/**", "tests/data/a.json", True),
        ("tests/", "tests/a/b.py", True),
        ("tests/*.py", "tests/a/b.py", False),
    ],
)
def test_patterns_match_like_gitignore(pattern: str, path: str, matches: bool) -> None:
    assert glob_matches(pattern, path) is matches


def test_junit_keys_are_those_pytest_writes() -> None:
    assert junit_key("tests/unit/test_a.py::TestX::test_y[1-a::b]") == (
        "tests.unit.test_a.TestX",
        "test_y[1-a::b]",
    )
