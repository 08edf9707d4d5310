"""The benchmark's loop: index once at an older revision, then fault each later commit.

For each commit: its tests run once under coverage (the real index build, at the commit),
which says which tests pass there and which run each line. Each mutant of a line the
commit wrote is committed on top of it in the scratch worktree, and the tests that run the
mutated statement (every test, when it runs at import) run with the fault: those that fail
are the truth. A test that never runs a statement cannot see its mutation, so the rest
need not run. Then every strategy chooses its tests for parent..mutant.
"""

from __future__ import annotations

import ast
import dataclasses
import random
import sys
import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from airollout.adapters.selection.git import change_for_index, changed_files, resolve
from airollout.adapters.selection.head_graph import head_graph_source
from airollout.adapters.selection.store import load_rules
from airollout.core.selection.index import Index
from airollout.core.selection.plan import make_plan
from airollout_tools.bench.selection.baselines import ImportGraph, file_name_matches
from airollout_tools.bench.selection.commits import (
    Commit,
    checkout,
    commit_all,
    commits_after,
    scratch_worktree,
)
from airollout_tools.bench.selection.mutants import Mutant, apply, find_mutants
from airollout_tools.bench.selection.subject import Subject, index_at, run_tests

PLANNER, RUN_ALL, FILE_NAME, IMPORT_GRAPH = (
    "airollout select",
    "run-all",
    "file-name",
    "import-graph",
)
STRATEGIES = (PLANNER, RUN_ALL, FILE_NAME, IMPORT_GRAPH)
PYTEST_RUNS_PER_MUTANT_WANTED = 3  # mutants tried per commit before giving up on it
Clock = Callable[[], float]


@dataclasses.dataclass(frozen=True)
class Settings:
    repo: Path
    subject: Subject
    sources: tuple[str, ...]
    index_at: str
    commits: int
    mutants_per_commit: int
    seed: int


@dataclasses.dataclass(frozen=True)
class Choice:
    """One strategy's tests for one faulty change."""

    selected: frozenset[str]
    full_suite: bool
    seconds: float
    plan_seconds: float

    def caught(self, truth: Collection[str]) -> bool:
        return self.full_suite or not self.selected.isdisjoint(truth)


@dataclasses.dataclass(frozen=True)
class MutantResult:
    commit: str
    mutant: Mutant
    truth: frozenset[str]
    full_seconds: float
    choices: dict[str, Choice]


@dataclasses.dataclass
class BenchResult:
    index_revision: str
    index_build_seconds: float
    index_tests: int
    commits: list[str] = dataclasses.field(default_factory=list)
    mutants: list[MutantResult] = dataclasses.field(default_factory=list)
    skipped: list[dict[str, str]] = dataclasses.field(default_factory=list)


def run_bench(settings: Settings, clock: Clock = time.perf_counter) -> BenchResult:
    repo = settings.repo.resolve()
    start = resolve(repo, settings.index_at, "--index-at")
    commits = commits_after(repo, start, settings.sources, settings.commits)
    with scratch_worktree(repo) as tree:
        checkout(tree, start)
        began = clock()
        index = index_at(tree, settings.subject)
        result = BenchResult(start, clock() - began, len(index.tests))
        for commit in commits:
            _log(f"{commit.sha[:12]} {commit.subject}")
            result.commits.append(commit.sha)
            _bench_commit(tree, commit, index, settings, result, clock)
    return result


def _bench_commit(
    tree: Path, commit: Commit, index: Index, settings: Settings, result: BenchResult, clock: Clock
) -> None:
    checkout(tree, commit.sha)
    candidates = [
        mutant
        for path, lines in sorted(commit.changed.items())
        for mutant in find_mutants(path, (tree / path).read_text(encoding="utf-8"), lines)
    ]
    if not candidates:
        result.skipped.append({"commit": commit.sha, "reason": "no mutable node on a changed line"})
        return
    clean = index_at(tree, settings.subject)
    passing = {t for t, record in clean.tests.items() if record.outcome == "passed"}
    random.Random(f"{settings.seed}:{commit.sha}").shuffle(candidates)
    graph, found, runs = ImportGraph(tree), 0, 0
    wanted = settings.mutants_per_commit
    for mutant in candidates:
        if found == wanted or runs == wanted * PYTEST_RUNS_PER_MUTANT_WANTED:
            break
        runners = _tests_running(clean, mutant) & passing
        if not runners:
            result.skipped.append(_skip(commit, mutant, "no test runs the mutated statement"))
            continue
        runs += 1
        outcome = _try_mutant(tree, commit, mutant, (clean, runners), index, graph, settings, clock)
        checkout(tree, commit.sha)
        if isinstance(outcome, str):
            result.skipped.append(_skip(commit, mutant, outcome))
            _log(f"  {mutant.label}: skipped, {outcome}")
        else:
            found += 1
            result.mutants.append(outcome)
            _log_mutant(outcome)


def _try_mutant(
    tree: Path,
    commit: Commit,
    mutant: Mutant,
    at_commit: tuple[Index, set[str]],
    index: Index,
    graph: ImportGraph,
    settings: Settings,
    clock: Clock,
) -> MutantResult | str:
    """The mutant's result, or why it was skipped. `at_commit`: the commit's own coverage
    index and the passing tests there that run the mutated statement."""
    clean, runners = at_commit
    file = tree / mutant.path
    faulty = apply(file.read_text(encoding="utf-8"), mutant)
    try:
        ast.parse(faulty)
    except SyntaxError:
        return "the mutation does not parse"
    file.write_text(faulty, encoding="utf-8")
    head = commit_all(tree, f"bench mutant {mutant.label}")
    budget = 60.0 + 3 * sum(clean.tests[t].duration for t in runners)
    run = run_tests(tree, settings.subject, sorted(runners), clean.tests, budget)
    if run.timed_out:
        return f"the faulty tests ran past {budget:.0f}s"
    truth = run.failing & runners
    if not truth:
        return "no test catches it"
    universe = frozenset(clean.tests)
    seconds = _seconds_of(index, clean)
    changed = changed_files(tree, commit.parent, head)
    rules = load_rules(tree, head)

    def timed(strategy: Callable[[], tuple[Iterable[str], bool]]) -> Choice:
        began = clock()
        chosen, full = strategy()
        took = clock() - began
        selected = universe if full else _expand(chosen, universe)
        return Choice(selected, full, seconds(selected), took)

    def plan() -> tuple[Iterable[str], bool]:
        change = change_for_index(tree, commit.parent, head, index.revision)
        plan_rules = load_rules(tree, head)
        graph = head_graph_source(tree, head, plan_rules)
        made = make_plan(index, change.changes, plan_rules, change.commits_behind, head_graph=graph)
        return made.tests, made.full_suite

    choices = {
        PLANNER: timed(plan),
        RUN_ALL: timed(lambda: ((), True)),
        FILE_NAME: timed(lambda: (file_name_matches(changed, universe, rules), False)),
        IMPORT_GRAPH: timed(lambda: (graph.tests_importing(changed, universe), False)),
    }
    return MutantResult(commit.sha, mutant, frozenset(truth), seconds(universe), choices)


def _tests_running(clean: Index, mutant: Mutant) -> set[str]:
    """Tests that run the mutated statement; all of them when it runs at import."""
    first, last = mutant.statement_lines
    lines = set(range(first, last + 1))
    if not lines.isdisjoint(clean.import_lines.get(mutant.path, ())):
        return set(clean.tests)
    return clean.covering(mutant.path, lines)


def _expand(chosen: Iterable[str], universe: frozenset[str]) -> frozenset[str]:
    """Node ids of the commit's tests; a plan may name a whole new test file by its path."""
    chosen = set(chosen)
    return frozenset(t for t in universe if t in chosen or t.split("::")[0] in chosen)


def _seconds_of(index: Index, clean: Index) -> Callable[[Iterable[str]], float]:
    """Test time from the index's durations; a test newer than the index, its time at the
    commit (a median guess would make new slow tests look free)."""

    def seconds(tests: Iterable[str]) -> float:
        return sum(_duration(t, index) or _duration(t, clean) for t in tests)

    return seconds


def _duration(test: str, index: Index) -> float:
    record = index.tests.get(test)
    return record.duration if record is not None else 0.0


def _skip(commit: Commit, mutant: Mutant, reason: str) -> dict[str, str]:
    return {"commit": commit.sha, "mutant": mutant.label, "reason": reason}


def _log_mutant(outcome: MutantResult) -> None:
    planned = outcome.choices[PLANNER]
    share = planned.seconds / outcome.full_seconds if outcome.full_seconds else 1.0
    verdict = "catches" if planned.caught(outcome.truth) else "misses"
    _log(
        f"  {outcome.mutant.label}: {len(outcome.truth)} failing tests; the plan {verdict} it "
        f"with {len(planned.selected)} tests, {share:.0%} of the test time"
    )


def _log(message: str) -> None:
    print(f"bench selection: {message}", file=sys.stderr, flush=True)
