"""`bench selection` end to end on a tiny generated repository (no cluster): the truth found
by running the faulty tests, the planner catching each fault, file-name matching missing
the module whose tests are named otherwise, and the report's keys."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from airollout.cli.main import main
from airollout_tools.bench.selection.report import render_table, report_json
from airollout_tools.bench.selection.run import (
    FILE_NAME,
    IMPORT_GRAPH,
    PLANNER,
    RUN_ALL,
    STRATEGIES,
    BenchResult,
    Settings,
    run_bench,
)
from airollout_tools.bench.selection.subject import Subject
from tests.unit.bench.selection_tiny_repo import git, make_tiny_repo

pytestmark = pytest.mark.unit

LARGE = "tests/test_checkout.py::test_large_baskets_get_half_off"
EMPTY = "tests/test_checkout.py::test_an_empty_basket_costs_nothing"
FREE = "tests/test_pricing.py::test_free"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BenchResult]:
    repo = tmp_path_factory.mktemp("bench-selection") / "shop"
    make_tiny_repo(repo)
    settings = Settings(
        repo=repo,
        subject=Subject(sys.executable, ("tests",)),
        sources=("shop",),
        index_at="HEAD~2",
        commits=5,
        mutants_per_commit=3,
        seed=1,
    )
    return repo, run_bench(settings)


def by_mutant(result: BenchResult) -> dict[str, frozenset[str]]:
    return {m.mutant.label: m.truth for m in result.mutants}


def test_the_truth_is_the_tests_that_fail_with_the_fault(tiny: tuple[Path, BenchResult]) -> None:
    _, result = tiny
    assert by_mutant(result) == {
        "shop/cart.py:6 drop-not": {LARGE},
        "shop/cart.py:7 off-by-one": {EMPTY},
        "shop/pricing.py:8 flip-comparison": {FREE},
        "shop/pricing.py:8 off-by-one": {FREE},
    }
    assert len(result.commits) == 2
    assert result.index_tests == 4


def test_the_planner_catches_each_fault_and_file_names_miss_the_cart(
    tiny: tuple[Path, BenchResult],
) -> None:
    _, result = tiny
    for mutant in result.mutants:
        assert mutant.choices[PLANNER].caught(mutant.truth), mutant.mutant.label
        assert not mutant.choices[PLANNER].full_suite
        assert mutant.choices[RUN_ALL].full_suite
        assert mutant.choices[IMPORT_GRAPH].caught(mutant.truth), mutant.mutant.label
        # cart.py's tests live in test_checkout.py: no file name ties them to it
        in_cart = mutant.mutant.path == "shop/cart.py"
        assert mutant.choices[FILE_NAME].caught(mutant.truth) is not in_cart


def test_the_callers_checkout_is_left_as_it_was(tiny: tuple[Path, BenchResult]) -> None:
    repo, _ = tiny
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "log", "-1", "--format=%s").strip() == "pricing: is_free"
    assert len(git(repo, "worktree", "list").splitlines()) == 1


def test_the_json_report_has_every_strategys_figures(tiny: tuple[Path, BenchResult]) -> None:
    _, result = tiny
    document = json.loads(json.dumps(report_json(result)))
    assert set(document) == {"index", "commits", "strategies", "targets", "mutants", "skipped"}
    assert set(document["index"]) == {"revision", "build_seconds", "tests"}
    assert list(document["strategies"]) == list(STRATEGIES)
    figures = document["strategies"][PLANNER]
    assert set(figures) == {
        *("faulty_changes", "caught", "caught_share", "failing_tests"),
        *("failing_tests_selected", "recall", "full_suite_plans", "test_seconds"),
        *("full_suite_seconds", "time_share", "plan_seconds_mean"),
    }
    assert (figures["caught"], figures["recall"]) == (4, 1.0)
    assert document["strategies"][FILE_NAME]["caught"] == 2
    assert document["strategies"][RUN_ALL]["time_share"] == 1.0
    assert set(document["mutants"][0]["strategies"][PLANNER]) == {
        "selected", "full_suite", "caught", "failing_selected", "time_share"
    }  # fmt: skip


def test_the_table_names_each_strategy_and_the_target(tiny: tuple[Path, BenchResult]) -> None:
    _, result = tiny
    table = render_table(result)
    assert "4 faulty changes from 2 commits" in table
    for name in STRATEGIES:
        assert any(line.startswith(name) for line in table.splitlines())
    assert "file-name         2/4 50.0%" in table
    assert "target: >= 99% caught at <= 30% of the test time" in table


def test_a_folder_that_is_no_repository_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "selection", "--repo", str(tmp_path), "--json"]) == 2
    assert "not a git repository" in capsys.readouterr().err
