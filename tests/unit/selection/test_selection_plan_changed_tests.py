"""A changed test file runs whole: the index cannot know the tests added to it."""

from __future__ import annotations

import pytest

from airollout.core.selection.diff import MODIFIED, RENAMED, FileChange
from airollout.core.selection.index import Index, IndexedTest
from airollout.core.selection.plan import make_plan
from airollout.core.selection.rules import DEFAULT_RULES_ONLY

pytestmark = pytest.mark.unit

OLD = "tests/test_ops.py::test_add"
OTHER = "tests/test_fmt.py::test_format"


def an_index() -> Index:
    return Index(
        revision="a" * 40,
        tests={
            OLD: IndexedTest(OLD, 2.0, lines={"tests/test_ops.py": frozenset({1, 2, 3})}),
            OTHER: IndexedTest(OTHER, 3.0, lines={"calc/fmt.py": frozenset({2})}),
        },
        files=frozenset({"tests/test_ops.py", "tests/test_fmt.py", "calc/fmt.py"}),
    )


def test_a_test_added_to_a_known_file_runs_with_the_file() -> None:
    added_after_line_9 = FileChange(
        "tests/test_ops.py", "tests/test_ops.py", MODIFIED, inserted_after=frozenset({9})
    )
    plan = make_plan(an_index(), [added_after_line_9], DEFAULT_RULES_ONLY, 0)
    assert plan.tests == ("tests/test_ops.py",)
    assert plan.estimated_seconds == 2.0  # the file's known tests' time, not a guess
    assert "a changed test file: run it whole" in plan.reasoning


def test_a_renamed_test_file_still_names_its_tests() -> None:
    moved = FileChange("tests/test_sums.py", "tests/test_ops.py", RENAMED)
    plan = make_plan(an_index(), [moved], DEFAULT_RULES_ONLY, 0)
    assert plan.tests == ("tests/test_sums.py::test_add",)
