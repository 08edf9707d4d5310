"""The plan names the change's paths (bounded, and first to go when the termination message
would overflow), and the feedback loop widens selection for the paths an escape came with."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from airollout.cli.select import TERMINATION_MESSAGE_BYTES, fitted
from airollout.core.feedback.policy import initial_policy, recalibrate
from airollout.core.selection.diff import DELETED, MODIFIED, RENAMED, FileChange
from airollout.core.selection.index import Index, IndexedTest
from airollout.core.selection.plan import CHANGED_PATHS_KEPT, make_plan
from airollout.core.selection.rules import DEFAULT_RULES_ONLY
from airollout.feedback.finished import finished
from airollout.feedback.loop import plans_and_escapes

pytestmark = pytest.mark.unit

ADD = "tests/test_ops.py::test_add"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DONE = "2026-11-30T11:00:00Z"


def an_index() -> Index:
    test = IndexedTest(ADD, 1.0, lines={"calc/ops.py": frozenset({2})})
    return Index(revision="a" * 40, tests={ADD: test}, files=frozenset({"calc/ops.py"}))


def modified(path: str) -> FileChange:
    return FileChange(path, path, MODIFIED, frozenset({2}))


def test_the_plan_lists_each_changed_path_once_in_diff_order() -> None:
    changes = [
        modified("calc/ops.py"),
        FileChange("calc/new.py", "calc/old.py", RENAMED),
        FileChange("calc/gone.py", "calc/gone.py", DELETED),
        modified("calc/ops.py"),
    ]

    report = make_plan(an_index(), changes, DEFAULT_RULES_ONLY, 0).to_json()

    assert report["changed_paths"] == ["calc/ops.py", "calc/new.py", "calc/gone.py"]
    assert report["tests"] == [ADD]


def test_the_plan_keeps_at_most_the_first_hundred_paths() -> None:
    changes = [modified(f"docs/page{n:03d}.md") for n in range(CHANGED_PATHS_KEPT + 20)]

    paths = make_plan(an_index(), changes, DEFAULT_RULES_ONLY, 0).changed_paths

    assert len(paths) == CHANGED_PATHS_KEPT
    assert paths[-1] == f"docs/page{CHANGED_PATHS_KEPT - 1:03d}.md"


def test_no_change_gives_no_changed_paths_key() -> None:
    assert "changed_paths" not in make_plan(an_index(), [], DEFAULT_RULES_ONLY, 0).to_json()


def a_report(paths: int, tests: int = 1) -> dict[str, object]:
    names = [f"tests/test_{n}.py::test_it" for n in range(tests)]
    return {
        "full_suite": False,
        "tests": names,
        "suites": [],
        "risk_tier": "low",
        "estimated_seconds": 1.0,
        "shards": [names],
        "reasoning": "r",
        "changed_paths": [f"src/package/module_{n:03d}/file.py" for n in range(paths)],
    }


def test_a_report_that_fits_is_printed_whole() -> None:
    report = a_report(paths=5)

    assert json.loads(fitted(report, indent=2)) == report


def test_too_many_paths_give_way_from_the_end_and_nothing_else_does() -> None:
    report = a_report(paths=100, tests=20)
    assert len(json.dumps(report, indent=2)) > TERMINATION_MESSAGE_BYTES

    text = fitted(report, indent=2)
    kept = json.loads(text)

    assert len(text.encode()) <= TERMINATION_MESSAGE_BYTES
    assert 0 < len(kept["changed_paths"]) < 100
    assert kept["changed_paths"] == report["changed_paths"][: len(kept["changed_paths"])]
    assert {k: v for k, v in kept.items() if k != "changed_paths"} == {
        k: v for k, v in report.items() if k != "changed_paths"
    }


def test_a_plan_too_long_without_paths_drops_the_key_and_keeps_every_test() -> None:
    report = a_report(paths=3, tests=200)

    kept = json.loads(fitted(report, separators=(",", ":")))

    assert "changed_paths" not in kept
    assert kept["tests"] == report["tests"]


def a_finished(name: str, plan: dict[str, object], **status: object) -> object:
    manifest = {
        "metadata": {"name": name, "namespace": "shop", "uid": name},
        "spec": {"targetRef": {"name": "checkout"}, "revision": "abc123"},
        "status": {
            "phase": "Succeeded",
            "testPlan": plan,
            "conditions": [
                {
                    "type": "Completed",
                    "status": "True",
                    "lastTransitionTime": "2026-11-30T11:00:00Z",
                }
            ],
            **status,
        },
    }
    item = finished(manifest, [])
    assert item is not None
    return item


def test_an_escape_widens_selection_for_the_directory_the_plan_named() -> None:
    changes = [modified("calc/ops.py")]
    printed = fitted(make_plan(an_index(), changes, DEFAULT_RULES_ONLY, 0).to_json(), indent=2)
    targeted = a_finished("one", json.loads(printed))
    full = a_finished("two", {"full_suite": True}, tests={"failing": ["tests/test_x.py::t"]})

    _, escapes = plans_and_escapes([targeted, full])  # type: ignore[list-item]
    policy = recalibrate(initial_policy(NOW), [], 0.05, NOW, escapes=escapes)

    assert [escape.changed_paths for escape in escapes] == [("calc/ops.py",)]
    assert policy is not None
    assert any("calc" in glob for glob in policy.selection_escalations)
