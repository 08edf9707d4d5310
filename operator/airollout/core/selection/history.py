"""Learning from past runs: which tests failed when which files changed, which are flaky."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from airollout.core.selection.index import History, Index

KEPT_REVISIONS = 50
FAILED = ("failed", "error")


def record_results(
    index: Index, results: Sequence[tuple[str, str]], revision: str, changed: Iterable[str]
) -> Index:
    """The index with these (node id, outcome) results of a run at `revision` learned.

    A test that failed and passed at one revision is flaky: its failures say nothing about
    the change, so planning never adds it for them (it still runs when it covers a change).
    """
    old = index.history
    changed_files = sorted(set(changed))
    runs, failures = dict(old.runs), dict(old.failures)
    cofailures = {test: dict(files) for test, files in old.cofailures.items()}
    outcomes = {rev: dict(tests) for rev, tests in old.outcomes.items()}
    at_revision = outcomes.pop(revision, {})
    for test, outcome in results:
        if outcome == "skipped":
            continue
        runs[test] = runs.get(test, 0) + 1
        at_revision[test] = (*at_revision.get(test, ()), outcome)
        if outcome in FAILED:
            failures[test] = failures.get(test, 0) + 1
            files = cofailures.setdefault(test, {})
            for path in changed_files:
                files[path] = files.get(path, 0) + 1
    outcomes[revision] = at_revision
    flaky = dict(old.flaky)
    for test, seen in at_revision.items():
        if (
            "passed" in seen
            and not set(FAILED).isdisjoint(seen)
            and revision not in flaky.get(test, ())
        ):
            flaky[test] = (*flaky.get(test, ()), revision)
    kept = dict(list(outcomes.items())[-KEPT_REVISIONS:])
    history = History(cofailures, runs, failures, flaky, kept)
    return dataclasses.replace(index, history=history)
