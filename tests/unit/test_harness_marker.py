"""The harness's own tests carry the `harness` marker, so `pytest -m "not harness"` runs
exactly the product's tests; nothing else carries it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

TESTS = Path(__file__).resolve().parents[1]
HARNESS_TESTS = [
    *(TESTS / "unit" / "localcluster").glob("test_*.py"),
    *(TESTS / "cluster").glob("test_harness_*.py"),
]


def marker_names(path: Path) -> set[str]:
    name = ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)
    marks = getattr(importlib.import_module(name), "pytestmark", [])
    return {mark.name for mark in (marks if isinstance(marks, list) else [marks])}


def test_there_are_harness_tests_to_mark() -> None:
    assert len(HARNESS_TESTS) >= 5, HARNESS_TESTS


@pytest.mark.parametrize("path", HARNESS_TESTS, ids=lambda p: p.name)
def test_every_test_of_the_harness_is_marked_harness(path: Path) -> None:
    assert "harness" in marker_names(path)


def test_no_test_of_the_product_is_marked_harness() -> None:
    product = set(TESTS.glob("**/test_*.py")) - set(HARNESS_TESTS)
    marked = sorted(str(p.relative_to(TESTS)) for p in product if "harness" in marker_names(p))
    assert marked == []
