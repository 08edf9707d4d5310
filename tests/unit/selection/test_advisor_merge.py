"""The advisor's merge, pure: it may only widen the index's plan, and it says what it did."""

from __future__ import annotations

import pytest

from airollout.core.selection.advisor import (
    AdviceError,
    advisor_messages,
    candidates,
    diff_summary,
    merge,
    read_advice,
    unused,
)
from airollout.core.selection.diff import MODIFIED, FileChange
from airollout.core.selection.index import Index, IndexedTest
from airollout.core.selection.plan import Plan, Sizing, make_plan
from airollout.core.selection.rules import DEFAULT_RULES_ONLY

pytestmark = pytest.mark.unit

OPS = "pkg/core/tests/test_ops.py::test_add"
FMT = "pkg/core/tests/test_fmt.py::test_fmt"
API = "pkg/api/tests/test_api.py::test_get"
SLOW = "tests/test_slow.py::test_all"
CHANGE = FileChange("pkg/core/ops.py", "pkg/core/ops.py", MODIFIED, frozenset({3, 4, 9}))


def an_index() -> Index:
    def test(node_id: str, seconds: float, path: str, lines: set[int]) -> IndexedTest:
        return IndexedTest(node_id, seconds, lines={path: frozenset(lines)})

    tests = {
        OPS: test(OPS, 2.0, "pkg/core/ops.py", {3}),
        FMT: test(FMT, 3.0, "pkg/core/fmt.py", {1}),
        API: test(API, 4.0, "pkg/api/api.py", {1}),
        SLOW: test(SLOW, 50.0, "pkg/api/api.py", {2}),
    }
    files = frozenset({"pkg/core/ops.py", "pkg/core/fmt.py", "pkg/api/api.py"})
    return Index("a" * 40, tests, files)


def index_plan(sizing: Sizing | None = None) -> Plan:
    return make_plan(an_index(), [CHANGE], DEFAULT_RULES_ONLY, 0, sizing or Sizing())


def test_the_index_alone_chooses_the_covering_test() -> None:
    assert index_plan().tests == (OPS,)


def test_added_tests_are_sharded_again_and_the_estimate_grows() -> None:
    sizing = Sizing(target_seconds=10.0, max_parallel=4)
    answer = {"add_tests": [SLOW, API]}
    plan, advice = merge(index_plan(sizing), answer, an_index(), [CHANGE], sizing)
    assert plan.tests == (OPS, SLOW, API)
    assert plan.estimated_seconds == 56.0
    assert len(plan.shards) == 3  # capped by the tests, not the parallelism
    assert sorted(t for shard in plan.shards for t in shard) == sorted(plan.tests)
    assert plan.reasoning.count("shards, the longest about") == 1
    assert "3 shards, the longest about 50.0s" in plan.reasoning
    assert advice.added == (SLOW, API)


def test_medium_runs_the_tests_beside_the_changed_file() -> None:
    plan, advice = merge(index_plan(), {"risk_tier": "medium"}, an_index(), [CHANGE])
    assert plan.risk_tier == "medium"
    assert set(plan.tests) == {OPS, FMT}
    assert not plan.full_suite
    assert advice.raised_tier == "medium"
    assert advice.note == "advisor: +1 tests, risk raised to medium"


def test_a_lower_tier_and_removals_are_ignored_and_named() -> None:
    high = make_plan(an_index(), [CHANGE], DEFAULT_RULES_ONLY, None)  # a stale index: high
    assert (high.risk_tier, high.full_suite) == ("high", True)
    answer = {"risk_tier": "low", "drop_tests": [OPS, API], "add_tests": [OPS]}
    plan, advice = merge(high, answer, an_index(), [CHANGE])
    assert (plan.risk_tier, plan.full_suite, plan.tests) == ("high", True, high.tests)
    assert advice.raised_tier is None
    assert "asked to lower the risk to low: ignored" in advice.note
    assert "asked to remove 2 tests" in advice.note


def test_unused_keeps_every_contract_field_and_appends_why() -> None:
    before = index_plan()
    after, advice = unused(before, "HTTP 429: slow down")
    assert after.to_json() | {"reasoning": before.reasoning} == before.to_json()
    assert after.reasoning.endswith("; advisor not used: HTTP 429: slow down")
    assert advice.to_json() == {
        "used": False,
        "added": [],
        "raised_tier": None,
        "note": "advisor not used: HTTP 429: slow down",
    }


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("no json here", "no JSON object"),
        ('["a list"]', "not a JSON object"),
        ('{"add_tests": "tests/x.py::t"}', "answer.add_tests"),
        ('{"risk_tier": "extreme"}', "answer.risk_tier"),
    ],
)
def test_an_unreadable_answer_names_its_problem(content: str, problem: str) -> None:
    with pytest.raises(AdviceError, match=problem):
        read_advice(content)


def test_the_prompt_is_bounded_and_offers_the_nearest_tests_first() -> None:
    many = [FileChange(f"f{n}.py", f"f{n}.py", MODIFIED, frozenset({1})) for n in range(150)]
    summary = diff_summary(many)
    assert (len(summary["files"]), summary["files_not_shown"]) == (100, 50)
    assert candidates(an_index(), index_plan(), [CHANGE]) == [FMT, API, SLOW]
    assert candidates(an_index(), index_plan(), [CHANGE], limit=1) == [FMT]
    system, user = advisor_messages(index_plan(), [CHANGE], an_index())
    assert "only WIDEN" in system["content"]
    assert '"hunks": 2' in user["content"]  # lines 3-4 and line 9
