"""The plan: which tests to run for a change, how risky it is, and how to shard the run.

Tests that cover a changed or removed line are always selected. Rules widen the set for
changes coverage cannot see; history adds tests that failed before with these files and
orders the run by failure likelihood, but never drops a test.
"""

from __future__ import annotations

import dataclasses
import posixpath
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from airollout.core.selection.diff import ADDED, DELETED, MODIFIED, RENAMED, FileChange
from airollout.core.selection.index import Index, SelectionInputError
from airollout.core.selection.rules import (
    DIRECTORY,
    FULL_SUITE,
    HEAD_IMPORTERS,
    IGNORE,
    IMPORTERS,
    RISKS,
    SUITE,
    Escalation,
    Rules,
    named_after,
)
from airollout.core.selection.shards import balance, shard_count

UNKNOWN_TEST_SECONDS = 1.0
COFAILURE_WEIGHT = 10.0
CHANGED_PATHS_KEPT = 100  # enough to learn from escapes, small beside the tests themselves


@dataclasses.dataclass(frozen=True)
class Plan:
    full_suite: bool
    tests: tuple[str, ...]
    suites: tuple[str, ...]
    risk_tier: str
    estimated_seconds: float
    shards: tuple[tuple[str, ...], ...]
    reasoning: str
    # the change's files (at the head; a deleted one's base path), so the feedback loop
    # can tell which paths a test that escaped this plan came with
    changed_paths: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "full_suite": self.full_suite,
            "tests": list(self.tests),
            "suites": list(self.suites),
            "risk_tier": self.risk_tier,
            "estimated_seconds": round(self.estimated_seconds, 3),
            "shards": [list(shard) for shard in self.shards],
            "reasoning": self.reasoning,
        }
        if self.changed_paths:
            report["changed_paths"] = list(self.changed_paths)
        return report


@dataclasses.dataclass(frozen=True)
class Sizing:
    target_seconds: float = 300.0
    max_parallel: int = 8


@dataclasses.dataclass(frozen=True)
class HeadGraph:
    """What the head tree's static import graph says about files the index never saw."""

    # file -> the test files at the head that import it, directly or through other modules;
    # a file missing here is outside every package the graph holds
    importers: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    test_files: frozenset[str] = frozenset()  # every test file at the head
    error: str | None = None  # why there is no graph at all


# asked once per plan, with every file that escalates to `head_importers`
HeadGraphSource = Callable[[Sequence[str]], HeadGraph]


@dataclasses.dataclass
class _Selection:
    """What the plan has gathered so far, with a reason for each widening."""

    index: Index
    rules: Rules
    tests: set[str] = dataclasses.field(default_factory=set)
    full_suite: bool = False
    risk: str = "low"
    reasons: list[str] = dataclasses.field(default_factory=list)
    # test files run whole, by path: new ones, or ones the head's import graph chose
    whole_files: set[str] = dataclasses.field(default_factory=set)
    # (path, escalation) waiting for the head's import graph, built once for all of them
    deferred: list[tuple[str, Escalation]] = dataclasses.field(default_factory=list)

    def add(self, tests: Iterable[str], reason: str) -> None:
        before = len(self.tests)
        self.tests.update(tests)
        added = len(self.tests) - before
        self.reasons.append(f"{reason} (+{added} tests)" if added else reason)

    def raise_risk(self, risk: str) -> None:
        self.risk = max(self.risk, risk, key=RISKS.index)

    def escalate(self, path: str, then: Escalation) -> None:
        self.raise_risk(then.risk)
        if then.action == FULL_SUITE:
            self.full_suite = True
            self.reasons.append(f"{path}: {then.reason}: full suite")
        elif then.action == DIRECTORY:
            self._directory(path, then.reason)
        elif then.action == SUITE:
            self.add(self._suite_tests(then.suites, path), f"{path}: {then.reason}")
        elif then.action == IMPORTERS:
            self.add(self.dependents(path), f"{path}: {then.reason}: its importers' tests")
        elif then.action == HEAD_IMPORTERS:
            self.deferred.append((path, then))
        elif then.action == IGNORE:
            self.reasons.append(f"{path}: {then.reason}")

    def _directory(self, path: str, reason: str) -> None:
        folder, beside = self.tests_beside(path)
        if beside:
            self.add(beside, f"{path}: {reason}: tests under {folder}/")
            return
        self.full_suite = True
        self.reasons.append(f"{path}: {reason}: no tests beside it, full suite")

    def tests_beside(self, path: str) -> tuple[str, set[str]]:
        """The known tests under the nearest folder above the file that has any."""
        folder = posixpath.dirname(path)
        while folder:
            beside = {t for t in self.index.tests if t.startswith(f"{folder}/")}
            if beside:
                return folder, beside
            folder = posixpath.dirname(folder)
        return "", set()

    def resolve_deferred(self, source: HeadGraphSource | None) -> None:
        if not self.deferred:
            return
        paths = [path for path, _ in self.deferred]
        graph = source(paths) if source else HeadGraph(error="no head import graph was asked for")
        for path, then in self.deferred:
            self._head_importers(path, then, graph)

    def _head_importers(self, path: str, then: Escalation, graph: HeadGraph) -> None:
        importers = graph.importers.get(path)
        if graph.error is not None or importers is None:
            why = graph.error or "the head's import graph does not hold it (in no package)"
            self.full_suite = True
            self.raise_risk("high")
            self.reasons.append(f"{path}: the index never saw this file and {why}: full suite")
            return
        named = {test for test in graph.test_files if named_after(test, path)}
        folder, beside = self.tests_beside(path)
        self.whole_files.update(importers | named)
        parts = [
            f"{len(importers)} test files import it at the head",
            f"{len(named)} are named after it",
        ]
        if beside:
            parts.append(f"{len(beside)} tests under {folder}/")
        self.add(beside, f"{path}: {then.reason}: {', '.join(parts)}")

    def _suite_tests(self, names: Sequence[str], where: str) -> set[str]:
        known = {suite.name: suite for suite in self.rules.suites}
        missing = [name for name in names if name not in known]
        if missing:
            raise SelectionInputError(f"selection rules for {where}: unknown suite {missing[0]!r}")
        return {
            node_id
            for node_id, test in self.index.tests.items()
            if any(known[name].holds(test.path, test.markers) for name in names)
        }

    def dependents(self, path: str) -> set[str]:
        """Tests that run the file, are defined in it, or run a file that imports it (the
        static graph)."""
        found = self.index.touching(path) | {
            node_id for node_id, test in self.index.tests.items() if test.path == path
        }
        for importer in self.index.importers.get(path, ()):
            found |= self.index.touching(importer)
        return found


def make_plan(
    index: Index,
    changes: Sequence[FileChange],
    rules: Rules,
    commits_behind: int | None,
    sizing: Sizing = Sizing(),
    head_graph: HeadGraphSource | None = None,
) -> Plan:
    """`commits_behind`: how far the index's revision is behind the base (None: unknown).
    `head_graph`: the head tree's import graph, for files the index never saw (None: such
    files that escalate to `head_importers` run the full suite)."""
    selection = _Selection(index, rules)
    if commits_behind is None or commits_behind > rules.stale_after_commits:
        behind = "an unknown number of" if commits_behind is None else str(commits_behind)
        selection.escalate(f"index at {index.revision[:12]}", rules.stale_index)
        selection.reasons[-1] += f" ({behind} commits behind the base)"
    seen = set(index.files) | index.covered_files() | set(index.importers)
    for change in changes:
        _select_for(selection, change, seen)
    if not changes:
        selection.reasons.append("no file changed")
    selection.resolve_deferred(head_graph)
    chosen = _final_tests(selection, changes, selection.whole_files)
    history_added = _history_additions(index, changes, chosen)
    if history_added:
        chosen |= history_added
        selection.reasons.append(
            f"history: {len(history_added)} tests failed before when these files changed"
        )
    return _assemble(selection, chosen, changes, sizing)


def _select_for(selection: _Selection, change: FileChange, seen: set[str]) -> None:
    rules, new_tests = selection.rules, selection.whole_files
    rule = rules.rule_for(change.path) or rules.rule_for(change.old_path)
    if rule is not None:
        selection.escalate(change.path, rule.then)
        if rule.then.action == IGNORE:
            return
    if change.old_path in seen and change.status != ADDED:
        _select_by_coverage(selection, change)
        if change.status == MODIFIED and rules.is_test_file(change.path):
            # the index knows the file's old tests only: a test added to it must run too
            new_tests.add(change.path)
            selection.reasons.append(f"{change.path}: a changed test file: run it whole")
    elif rule is not None:
        return
    elif rules.is_test_file(change.path):
        if change.status != DELETED:
            new_tests.add(change.path)
            selection.reasons.append(f"{change.path}: a test file the index never saw: run it")
    elif change.status == DELETED or not change.path.endswith(".py"):
        selection.escalate(change.path, rules.unseen_file)
    elif change.status == ADDED:
        selection.escalate(change.path, rules.unseen_module)
    else:
        selection.escalate(change.path, rules.unseen_python)


def _select_by_coverage(selection: _Selection, change: FileChange) -> None:
    index, path = selection.index, change.old_path
    lines = change.base_lines()
    covering = index.covering(path, lines)
    if covering:
        selection.add(covering, f"{path}: tests that run the {len(lines)} changed lines")
    moved = change.status in (DELETED, RENAMED)
    at_import = not lines.isdisjoint(index.import_lines.get(path, ()))
    if moved or at_import:
        why = "moved or deleted" if moved else "module-level lines changed"
        selection.add(selection.dependents(path), f"{path}: {why}: every test that runs it")
    elif not index.touching(path):
        dependents = selection.dependents(path)
        if dependents:
            selection.add(dependents, f"{path}: no test runs it: tests of its importers")
        else:
            selection.raise_risk("medium")
            selection.reasons.append(f"{path}: no test runs or imports it")


def _final_tests(selection: _Selection, changes: Sequence[FileChange], new: set[str]) -> set[str]:
    """The chosen node ids at the head: tests of deleted files gone, renamed files' moved."""
    chosen = set(selection.index.tests) if selection.full_suite else set(selection.tests)
    gone = {c.old_path: c for c in changes if c.status in (DELETED, RENAMED)}
    at_head: set[str] = set()
    for node_id in chosen:
        path, sep, rest = node_id.partition("::")
        change = gone.get(path)
        if change is None:
            at_head.add(node_id)
        elif change.status == RENAMED:
            at_head.add(f"{change.path}{sep}{rest}")
    # a test file that runs whole is named once, by its path, not again by its tests
    return {t for t in at_head if t.split("::", 1)[0] not in new} | new


def _history_additions(index: Index, changes: Sequence[FileChange], chosen: set[str]) -> set[str]:
    """Tests that failed before when one of these files changed; flaky failures teach nothing."""
    changed = {path for change in changes for path in (change.path, change.old_path)}
    history = index.history
    return {
        test
        for test, files in history.cofailures.items()
        if test in index.tests
        and test not in chosen
        and test.split("::", 1)[0] not in chosen
        and test not in history.flaky
        and not changed.isdisjoint(files)
    }


def _likelihood(index: Index, changes: Sequence[FileChange], test: str) -> float:
    history = index.history
    changed = {path for change in changes for path in (change.path, change.old_path)}
    cofailed = sum(n for path, n in history.cofailures.get(test, {}).items() if path in changed)
    rate = history.failures.get(test, 0) / (history.runs.get(test, 0) + 1)
    return COFAILURE_WEIGHT * cofailed + rate


def _assemble(
    selection: _Selection, chosen: set[str], changes: Sequence[FileChange], sizing: Sizing
) -> Plan:
    index = selection.index
    known = [t.duration for t in index.tests.values() if t.duration > 0]
    fallback = statistics.median(known) if known else UNKNOWN_TEST_SECONDS
    seconds = {t: _seconds(index, t, fallback) for t in chosen}
    likelihood = {t: _likelihood(index, changes, t) for t in chosen}
    order = sorted(chosen, key=lambda t: (-likelihood[t], t))
    total = sum(seconds.values())
    count = shard_count(total, len(order), sizing.target_seconds, sizing.max_parallel)
    shards = balance(order, seconds, count)
    flaky = sorted(set(order) & set(index.history.flaky))
    reasons = _dedupe(selection.reasons)
    if flaky:
        reasons.append(f"flaky (failed and passed at one revision): {', '.join(flaky)}")
    if shards:
        longest = max(sum(seconds[t] for t in shard) for shard in shards)
        reasons.append(f"{len(shards)} shards, the longest about {longest:.1f}s")
    return Plan(
        full_suite=selection.full_suite,
        tests=tuple(order),
        suites=tuple(_suites_of(selection, order)),
        risk_tier=selection.risk,
        estimated_seconds=total,
        shards=tuple(tuple(shard) for shard in shards),
        reasoning="; ".join(reasons),
        changed_paths=tuple(dict.fromkeys(c.path for c in changes))[:CHANGED_PATHS_KEPT],
    )


def _seconds(index: Index, test: str, fallback: float) -> float:
    """A test's recorded duration; a whole test file's, its known tests' (else one unknown)."""
    if test in index.tests:
        return index.tests[test].duration
    known = [t.duration for t in index.tests.values() if t.path == test]
    return sum(known) if known else fallback


def _suites_of(selection: _Selection, tests: Sequence[str]) -> list[str]:
    records = selection.index.tests
    names = []
    for suite in selection.rules.suites:
        for node_id in tests:
            record = records.get(node_id)
            markers = record.markers if record else ()
            if suite.holds(node_id.split("::", 1)[0], markers):
                names.append(suite.name)
                break
    return names


def _dedupe(reasons: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(reasons))
