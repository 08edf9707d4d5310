"""Test results from JUnit XML, the format pytest (`--junitxml`) and most CI systems write.

junitparser reads it: it handles both the single-suite and the <testsuites> forms and the
failure/error/skipped elements, which a hand-rolled ElementTree reader would have to redo.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from xml.etree.ElementTree import ParseError

from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite

from airollout.core.selection.index import SelectionInputError, junit_key


@dataclasses.dataclass(frozen=True)
class CaseResult:
    classname: str
    name: str
    outcome: str
    seconds: float


def read_results(path: Path) -> list[CaseResult]:
    try:
        xml = JUnitXml.fromfile(str(path))
    except (OSError, ParseError) as error:
        raise SelectionInputError(f"{path}: not a readable JUnit XML file ({error})") from error
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    return [
        CaseResult(case.classname or "", case.name or "", _outcome(case.result), case.time or 0.0)
        for suite in suites
        for case in suite
    ]


def _outcome(results: Sequence[object]) -> str:
    if any(isinstance(result, Error) for result in results):
        return "error"
    if any(isinstance(result, Failure) for result in results):
        return "failed"
    if any(isinstance(result, Skipped) for result in results):
        return "skipped"
    return "passed"


def node_ids_by_key(node_ids: Iterable[str]) -> Mapping[tuple[str, str], str]:
    return {junit_key(node_id): node_id for node_id in node_ids}


def node_id_of(case: CaseResult, known: Mapping[tuple[str, str], str]) -> str:
    """The pytest node id of a case; a case the index does not know keeps its JUnit names."""
    return known.get((case.classname, case.name), f"{case.classname}::{case.name}")
