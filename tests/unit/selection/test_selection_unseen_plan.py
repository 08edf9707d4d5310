"""The plan's `head_importers` escalation on its own: the graph is asked once per plan, a
changed line's tests are never dropped, and without a graph the full suite runs."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from airollout.core.selection.diff import MODIFIED, FileChange
from airollout.core.selection.index import Index, IndexedTest
from airollout.core.selection.plan import HeadGraph, make_plan
from airollout.core.selection.rules import DEFAULT_RULES_ONLY, named_after

pytestmark = pytest.mark.unit

ADD = "tests/test_ops.py::test_add"
INDEX = Index(
    revision="a" * 40,
    tests={ADD: IndexedTest(ADD, duration=1.0, lines={"calc/ops.py": frozenset({2})})},
    files=frozenset({"calc/ops.py", "tests/test_ops.py"}),
)


def modified(path: str, lines: set[int]) -> FileChange:
    return FileChange(path, path, MODIFIED, frozenset(lines), frozenset(lines))


def test_two_unseen_modules_ask_the_graph_once_and_keep_the_covering_tests() -> None:
    asked: list[list[str]] = []

    def graph(paths: Sequence[str]) -> HeadGraph:
        asked.append(list(paths))
        return HeadGraph(
            importers={
                "calc/geo.py": frozenset({"tests/test_area.py"}),
                "calc/new.py": frozenset(),
            },
            test_files=frozenset({"tests/test_area.py", "tests/test_new_cases.py"}),
        )

    changes = [
        modified("calc/ops.py", {2}),
        modified("calc/geo.py", {1}),
        modified("calc/new.py", {1}),
    ]
    plan = make_plan(INDEX, changes, DEFAULT_RULES_ONLY, 0, head_graph=graph)
    assert asked == [["calc/geo.py", "calc/new.py"]]
    assert set(plan.tests) == {ADD, "tests/test_area.py", "tests/test_new_cases.py"}
    assert (plan.full_suite, plan.risk_tier) == (False, "medium")
    assert "calc/new.py: the index never saw this file" in plan.reasoning


def test_without_a_graph_an_unseen_module_runs_the_full_suite() -> None:
    plan = make_plan(INDEX, [modified("calc/geo.py", {1})], DEFAULT_RULES_ONLY, 0)
    assert (plan.full_suite, plan.risk_tier) == (True, "high")
    assert "no head import graph was asked for" in plan.reasoning


def test_a_graph_that_failed_runs_the_full_suite_with_its_reason() -> None:
    def broken(paths: Sequence[str]) -> HeadGraph:
        return HeadGraph(error="grimp: SyntaxError in calc/geo.py")

    plan = make_plan(
        INDEX, [modified("calc/geo.py", {1})], DEFAULT_RULES_ONLY, 0, head_graph=broken
    )
    assert plan.full_suite
    assert "grimp: SyntaxError in calc/geo.py: full suite" in plan.reasoning


@pytest.mark.parametrize(
    ("test_file", "module", "expected"),
    [
        ("tests/test_plan.py", "core/plan.py", True),
        ("tests/test_plan_cli.py", "core/plan.py", True),
        ("tests/plan_test.py", "core/plan.py", True),
        ("tests/test_planner.py", "core/plan.py", False),
        ("tests/test_selection.py", "core/selection/__init__.py", True),
    ],
)
def test_test_files_named_after_a_module(test_file: str, module: str, expected: bool) -> None:
    assert named_after(test_file, module) is expected
