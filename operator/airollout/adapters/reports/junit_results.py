"""The tests signal from JUnit XML files (pytest, Go, Maven, the tests Job's results).

The selection adapter's junitparser reading is reused, so both see the same cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from junitparser import JUnitXmlError

from airollout.adapters.reports.common import Reading, ReportError
from airollout.adapters.selection.junit import CaseResult, read_results
from airollout.core.selection.index import SelectionInputError

SHOWN_FAILURES = 5


def read_tests(paths: Sequence[Path]) -> Reading:
    """`tests: {total, failed, skipped}` over all files; errors count as failures."""
    cases: list[CaseResult] = []
    for path in paths:
        cases.extend(_cases(path))
    failed = [case for case in cases if case.outcome in ("failed", "error")]
    skipped = sum(case.outcome == "skipped" for case in cases)
    notes = [
        f"tests: {len(cases)} cases in {len(paths)} JUnit file(s), {len(failed)} failed,"
        f" {skipped} skipped"
    ]
    if failed:
        names = ", ".join(f"{case.classname}::{case.name}" for case in failed[:SHOWN_FAILURES])
        more = f" and {len(failed) - SHOWN_FAILURES} more" if len(failed) > SHOWN_FAILURES else ""
        notes.append(f"tests failed: {names}{more}")
    signal = {"total": len(cases), "failed": len(failed), "skipped": skipped}
    return Reading({"tests": signal}, tuple(notes))


def _cases(path: Path) -> list[CaseResult]:
    if not path.is_file():
        raise ReportError(f"{path}: no such file (--junit)")
    try:
        return read_results(path)
    except SelectionInputError as error:
        raise ReportError(str(error)) from None
    except JUnitXmlError:
        raise ReportError(
            f"{path}: is XML but not JUnit (its root is neither <testsuites> nor <testsuite>)"
        ) from None
