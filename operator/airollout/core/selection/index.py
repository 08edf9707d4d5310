"""The change-impact index: for every test its node id, duration, outcome and covered lines.

Line numbers are those of the revision the index was built at. The JSON form keeps covered
lines as compact ranges ("3-7,9"), since a test usually covers runs of adjacent lines.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

INDEX_FORMAT = 1
OUTCOMES = ("passed", "failed", "skipped", "error")


class SelectionInputError(ValueError):
    """Input that cannot be used; the message names the field or file."""


@dataclasses.dataclass(frozen=True)
class IndexedTest:
    node_id: str
    duration: float = 0.0
    outcome: str = "passed"
    markers: tuple[str, ...] = ()
    # repository-relative file -> line numbers this test ran (setup and teardown included)
    lines: Mapping[str, frozenset[int]] = dataclasses.field(default_factory=dict)

    @property
    def path(self) -> str:
        """The test's file, as pytest's node id names it."""
        return self.node_id.split("::", 1)[0]


@dataclasses.dataclass(frozen=True)
class History:
    """What past runs taught: co-failures with changed files, failure rates, flakiness."""

    # test -> changed file -> times the test failed when that file had changed
    cofailures: Mapping[str, Mapping[str, int]] = dataclasses.field(default_factory=dict)
    runs: Mapping[str, int] = dataclasses.field(default_factory=dict)
    failures: Mapping[str, int] = dataclasses.field(default_factory=dict)
    # test -> revisions at which it both failed and passed
    flaky: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # revision -> test -> outcomes seen there (recent revisions only), to detect flakiness
    outcomes: Mapping[str, Mapping[str, tuple[str, ...]]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Index:
    revision: str
    tests: Mapping[str, IndexedTest]
    # every file tracked at the revision, covered or not: a file missing here is new
    files: frozenset[str] = frozenset()
    # lines that ran outside any test (module bodies run while pytest collects)
    import_lines: Mapping[str, frozenset[int]] = dataclasses.field(default_factory=dict)
    # file no test covers -> files that import it, directly or not (the static graph)
    importers: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    history: History = dataclasses.field(default_factory=History)

    def covering(self, path: str, lines: Iterable[int]) -> set[str]:
        wanted = set(lines)
        return {
            node_id
            for node_id, test in self.tests.items()
            if not wanted.isdisjoint(test.lines.get(path, ()))
        }

    def touching(self, path: str) -> set[str]:
        """Tests that ran any line of the file."""
        return {node_id for node_id, test in self.tests.items() if test.lines.get(path)}

    def covered_files(self) -> set[str]:
        return {path for test in self.tests.values() for path, lines in test.lines.items() if lines}


def encode_lines(lines: Iterable[int]) -> str:
    ordered = sorted(set(lines))
    parts: list[str] = []
    start = previous = None
    for line in [*ordered, None]:
        if start is not None and previous is not None and line == previous + 1:
            previous = line
            continue
        if start is not None and previous is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = line
    return ",".join(parts)


_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def decode_lines(text: str, where: str) -> frozenset[int]:
    lines: set[int] = set()
    for part in filter(None, text.split(",")):
        match = _RANGE.match(part)
        if not match:
            raise SelectionInputError(f"{where}: {part!r} is not a line or a range of lines")
        first = int(match.group(1))
        lines.update(range(first, int(match.group(2) or first) + 1))
    return frozenset(lines)


def junit_key(node_id: str) -> tuple[str, str]:
    """(classname, name) as pytest's --junitxml writes them for this node id."""
    path, bracket, params = node_id.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return ".".join(names[:-1]), names[-1]


def index_to_json(index: Index) -> dict[str, Any]:
    history = index.history
    return {
        "format": INDEX_FORMAT,
        "revision": index.revision,
        "tests": {
            node_id: {
                "duration": round(test.duration, 6),
                "outcome": test.outcome,
                "markers": list(test.markers),
                "lines": {path: encode_lines(lines) for path, lines in sorted(test.lines.items())},
            }
            for node_id, test in sorted(index.tests.items())
        },
        "files": sorted(index.files),
        "import_lines": {path: encode_lines(v) for path, v in sorted(index.import_lines.items())},
        "importers": {path: list(v) for path, v in sorted(index.importers.items())},
        "history": {
            "cofailures": {t: dict(files) for t, files in history.cofailures.items()},
            "runs": dict(history.runs),
            "failures": dict(history.failures),
            "flaky": {t: list(revs) for t, revs in history.flaky.items()},
            "outcomes": {
                rev: {t: list(seen) for t, seen in tests.items()}
                for rev, tests in history.outcomes.items()
            },
        },
    }


def index_from_json(data: Any, where: str) -> Index:
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
        raise SelectionInputError(f"{where}: not an airollout selection index (format 1)")
    revision = data.get("revision")
    if not isinstance(revision, str) or not revision:
        raise SelectionInputError(f"{where}: 'revision' must be a non-empty string")
    tests = {
        node_id: _test_from_json(node_id, entry, f"{where}: tests[{node_id!r}]")
        for node_id, entry in _mapping(data, "tests", where).items()
    }
    history = _mapping(data, "history", where)
    return Index(
        revision=revision,
        tests=tests,
        files=frozenset(data.get("files", ())),
        import_lines={
            path: decode_lines(text, f"{where}: import_lines[{path!r}]")
            for path, text in _mapping(data, "import_lines", where).items()
        },
        importers={path: tuple(v) for path, v in _mapping(data, "importers", where).items()},
        history=History(
            cofailures={t: dict(v) for t, v in history.get("cofailures", {}).items()},
            runs=dict(history.get("runs", {})),
            failures=dict(history.get("failures", {})),
            flaky={t: tuple(v) for t, v in history.get("flaky", {}).items()},
            outcomes={
                rev: {t: tuple(seen) for t, seen in v.items()}
                for rev, v in history.get("outcomes", {}).items()
            },
        ),
    )


def _mapping(data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise SelectionInputError(f"{where}: {key!r} must be a mapping")
    return value


def _test_from_json(node_id: str, entry: Any, where: str) -> IndexedTest:
    if not isinstance(entry, dict):
        raise SelectionInputError(f"{where}: must be a mapping")
    duration = entry.get("duration", 0.0)
    if not isinstance(duration, int | float) or duration < 0:
        raise SelectionInputError(f"{where}.duration: must be a number >= 0")
    outcome = entry.get("outcome", "passed")
    if outcome not in OUTCOMES:
        raise SelectionInputError(f"{where}.outcome: must be one of {', '.join(OUTCOMES)}")
    lines = _mapping(entry, "lines", where)
    return IndexedTest(
        node_id=node_id,
        duration=float(duration),
        outcome=outcome,
        markers=tuple(entry.get("markers", ())),
        lines={
            path: decode_lines(text, f"{where}.lines[{path!r}]") for path, text in lines.items()
        },
    )
