"""Planning from small hand-built indexes: coverage, escalation, history, sharding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airollout.core.selection.diff import ADDED, DELETED, MODIFIED, RENAMED, FileChange
from airollout.core.selection.history import record_results
from airollout.core.selection.index import (
    Index,
    IndexedTest,
    SelectionInputError,
    index_from_json,
    index_to_json,
)
from airollout.core.selection.plan import Sizing, make_plan
from airollout.core.selection.rules import DEFAULT_RULES_ONLY, rules_from_config
from airollout.core.selection.shards import balance, shard_count

pytestmark = pytest.mark.unit

ADD = "tests/test_ops.py::test_add"
SUB = "tests/test_ops.py::test_sub"
FMT = "tests/test_fmt.py::test_format"


def an_index(**overrides: object) -> Index:
    tests = {
        ADD: IndexedTest(
            ADD, 2.0, lines={"calc/ops.py": frozenset({2, 3}), "tests/test_ops.py": frozenset({5})}
        ),
        SUB: IndexedTest(SUB, 1.0, lines={"calc/ops.py": frozenset({6, 7})}),
        FMT: IndexedTest(FMT, 4.0, markers=("slow",), lines={"calc/fmt.py": frozenset({2})}),
    }
    fields: dict[str, object] = {
        "revision": "a" * 40,
        "tests": tests,
        "files": frozenset(
            {"calc/ops.py", "calc/fmt.py", "calc/cli.py", "calc/unused.py", "README.md"}
        ),
        "import_lines": {"calc/ops.py": frozenset({1, 5})},
        "importers": {"calc/cli.py": ("calc/fmt.py",)},
    }
    fields.update(overrides)
    return Index(**fields)  # type: ignore[arg-type]


def modified(
    path: str, removed: set[int] = frozenset(), after: set[int] = frozenset()
) -> FileChange:
    return FileChange(path, path, MODIFIED, frozenset(removed), frozenset(after))


def plan_for(
    *changes: FileChange, index: Index | None = None, behind: int | None = 0, **rules: object
):
    chosen = rules_from_config(rules, "selection.yaml") if rules else DEFAULT_RULES_ONLY
    return make_plan(
        index or an_index(), changes, chosen, behind, Sizing(target_seconds=3, max_parallel=4)
    )


def test_a_changed_line_selects_exactly_the_tests_that_run_it() -> None:
    plan = plan_for(modified("calc/ops.py", {3}))
    assert plan.tests == (ADD,)
    assert not plan.full_suite
    assert plan.risk_tier == "low"
    assert plan.estimated_seconds == 2.0


def test_an_insertion_selects_the_tests_of_the_lines_around_it() -> None:
    assert plan_for(modified("calc/ops.py", after={6})).tests == (SUB,)


def test_a_module_level_line_selects_every_test_that_runs_the_file() -> None:
    assert set(plan_for(modified("calc/ops.py", {5})).tests) == {ADD, SUB}


def test_a_file_no_test_runs_selects_the_tests_of_its_importers() -> None:
    plan = plan_for(modified("calc/cli.py", {10}))
    assert plan.tests == (FMT,)
    assert "importers" in plan.reasoning


def test_a_file_nothing_runs_or_imports_selects_nothing_at_medium_risk() -> None:
    plan = plan_for(modified("calc/unused.py", {1}))
    assert plan.tests == ()
    assert plan.risk_tier == "medium"


@pytest.mark.parametrize(
    "path", ["tests/conftest.py", "pyproject.toml", "uv.lock", ".github/workflows/ci.yml"]
)
def test_files_coverage_cannot_see_escalate_to_the_full_suite(path: str) -> None:
    plan = plan_for(modified(path, {1}))
    assert plan.full_suite
    assert set(plan.tests) == {ADD, SUB, FMT}
    assert plan.risk_tier == "high"
    assert path in plan.reasoning


def test_documentation_selects_nothing() -> None:
    plan = plan_for(modified("README.md", {1}))
    assert (plan.tests, plan.full_suite, plan.risk_tier) == ((), False, "low")


def test_a_data_file_selects_the_tests_beside_it() -> None:
    plan = plan_for(FileChange("tests/data/cases.json", "tests/data/cases.json", ADDED))
    assert set(plan.tests) == {ADD, SUB, FMT}
    assert not plan.full_suite


def test_a_file_the_index_never_saw_escalates() -> None:
    plan = plan_for(modified("calc/assets/logo.svg", {1}))
    assert plan.full_suite
    assert "never saw" in plan.reasoning


def test_a_new_test_file_runs_and_a_deleted_one_is_dropped() -> None:
    plan = plan_for(
        FileChange("tests/test_new.py", "tests/test_new.py", ADDED),
        FileChange("tests/test_fmt.py", "tests/test_fmt.py", DELETED, frozenset({1, 2})),
        modified("calc/fmt.py", {2}),
    )
    assert plan.tests == ("tests/test_new.py",)


def test_a_renamed_test_file_keeps_its_tests_under_the_new_name() -> None:
    plan = plan_for(FileChange("tests/test_sums.py", "tests/test_ops.py", RENAMED))
    assert set(plan.tests) == {"tests/test_sums.py::test_add", "tests/test_sums.py::test_sub"}


def test_a_stale_index_escalates_with_the_reason() -> None:
    plan = plan_for(modified("calc/ops.py", {3}), behind=500)
    assert plan.full_suite
    assert "500 commits behind" in plan.reasoning
    assert plan_for(modified("calc/ops.py", {3}), behind=None).full_suite


def test_repository_rules_come_first_and_can_name_suites() -> None:
    plan = plan_for(
        modified("calc/ops.py", {3}),
        rules=[
            {
                "paths": ["calc/ops.py"],
                "action": "suite",
                "suites": ["slow"],
                "reason": "ops feeds fmt",
            }
        ],
        suites={"slow": {"markers": ["slow"]}, "ops": {"paths": ["tests/test_ops.py"]}},
    )
    assert set(plan.tests) == {ADD, FMT}
    assert plan.suites == ("slow", "ops")
    assert plan.risk_tier == "medium"


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"rules": [{"paths": []}]}, "rules[0].paths"),
        ({"rules": [{"paths": ["x"], "action": "explode"}]}, "rules[0].action"),
        ({"suites": {"s": {}}}, "suites.s"),
        ({"stale_after_commits": -1}, "stale_after_commits"),
    ],
)
def test_bad_rules_name_the_field(config: dict[str, object], named: str) -> None:
    with pytest.raises(SelectionInputError, match=named.replace("[", r"\[").replace("]", r"\]")):
        rules_from_config(config, "selection.yaml")


def test_history_adds_tests_that_failed_with_these_files_and_orders_them_first() -> None:
    index = record_results(
        an_index(), [(FMT, "failed"), (ADD, "passed")], "b" * 40, ["calc/ops.py"]
    )
    plan = plan_for(modified("calc/ops.py", {3}), index=index)
    assert plan.tests == (FMT, ADD)
    assert "history" in plan.reasoning


def test_flaky_failures_add_nothing() -> None:
    index = an_index()
    for outcome in ("failed", "passed"):
        index = record_results(index, [(FMT, outcome)], "b" * 40, ["calc/ops.py"])
    assert index.history.flaky == {FMT: ("b" * 40,)}
    plan = plan_for(modified("calc/ops.py", {3}), index=index)
    assert plan.tests == (ADD,)
    assert "flaky" not in plan.reasoning


@given(
    failures=st.lists(
        st.tuples(
            st.sampled_from([ADD, SUB, FMT]), st.sampled_from(["failed", "passed", "skipped"])
        ),
        max_size=12,
    ),
    lines=st.sets(st.integers(1, 8), min_size=1),
)
def test_history_never_drops_a_test_that_covers_a_changed_line(
    failures: list[tuple[str, str]], lines: set[int]
) -> None:
    index = an_index()
    without = plan_for(modified("calc/ops.py", lines), index=index)
    for n, result in enumerate(failures):
        index = record_results(index, [result], f"r{n % 3}", ["calc/fmt.py"])
    learned = plan_for(modified("calc/ops.py", lines), index=index)
    assert set(without.tests) <= set(learned.tests)


def test_shards_are_balanced_by_duration_and_counted_from_the_target() -> None:
    seconds = {"a": 8.0, "b": 4.0, "c": 4.0, "d": 2.0, "e": 2.0}
    assert shard_count(20.0, 5, target_seconds=10, max_parallel=8) == 2
    assert shard_count(20.0, 5, target_seconds=1, max_parallel=3) == 3
    assert shard_count(0.0, 0, target_seconds=1, max_parallel=3) == 0
    shards = balance(list(seconds), seconds, 2)
    assert sorted(sum(seconds[t] for t in shard) for shard in shards) == [10.0, 10.0]
    assert sorted(t for shard in shards for t in shard) == sorted(seconds)


def test_plan_shards_hold_every_selected_test_once() -> None:
    plan = plan_for(modified("tests/conftest.py", {1}))
    assert len(plan.shards) == 3  # 7 s of tests, a 3 s target, at most 4 in parallel
    assert sorted(t for shard in plan.shards for t in shard) == sorted(plan.tests)


def test_the_index_survives_its_json_form() -> None:
    index = record_results(an_index(), [(FMT, "failed")], "b" * 40, ["calc/ops.py"])
    again = index_from_json(index_to_json(index), "index.json")
    assert again == index


def test_a_malformed_index_names_the_field() -> None:
    data = index_to_json(an_index())
    data["tests"][ADD]["lines"]["calc/ops.py"] = "2-x"
    with pytest.raises(SelectionInputError, match=r"tests\['tests/test_ops.py::test_add'\]"):
        index_from_json(data, "index.json")
