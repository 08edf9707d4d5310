"""Building the index: the repository's pytest once, under coverage, one context per test.

The contexts come from a small pytest plugin that calls coverage's `switch_context` with
each test's node id, not from pytest-cov's `--cov-context=test`: node ids then match
pytest's exactly (no `|setup`/`|run` suffixes to strip), the same plugin records markers,
the target interpreter needs only coverage.py, and the repository's own pytest-cov
settings, if any, do not interfere. The static import graph (grimp) covers the files no
test runs. Each build is a full run; the history learned so far is carried over.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from coverage import CoverageData

from airollout.adapters.selection.git import git, tracked_files
from airollout.adapters.selection.junit import node_id_of, node_ids_by_key, read_results
from airollout.core.selection.index import History, Index, IndexedTest, SelectionInputError

PLUGIN_DIR = Path(__file__).parent / "pytest_plugin"
PLUGIN = "airollout_selection_plugin"
# pytest's exit codes: 0 all passed, 1 some failed; anything else means no usable run.
USABLE_PYTEST_EXITS = (0, 1)


def build_index(
    repo: Path, python: str, tests: Sequence[str], previous: Index | None = None
) -> Index:
    repo = repo.resolve()
    revision = git(repo, "rev-parse", "HEAD").strip()
    with tempfile.TemporaryDirectory(prefix="airollout-select-") as scratch:
        work = Path(scratch)
        _run_suite(repo, python, tests, work)
        contexts = _contexts(repo, work / "coverage.data")
        markers = json.loads((work / "markers.json").read_text(encoding="utf-8"))
        results = read_results(work / "junit.xml")
    keys = node_ids_by_key(markers)
    timing = {node_id_of(case, keys): case for case in results}
    per_test: dict[str, dict[str, set[int]]] = {node_id: {} for node_id in markers}
    import_lines: dict[str, frozenset[int]] = {}
    for path, by_context in contexts.items():
        for context, lines in by_context.items():
            if context in per_test:
                per_test[context][path] = lines
            elif context == "":
                import_lines[path] = frozenset(lines)
    indexed = {
        node_id: IndexedTest(
            node_id=node_id,
            duration=timing[node_id].seconds if node_id in timing else 0.0,
            outcome=timing[node_id].outcome if node_id in timing else "passed",
            markers=tuple(markers[node_id]),
            lines={path: frozenset(lines) for path, lines in files.items()},
        )
        for node_id, files in per_test.items()
    }
    files = tracked_files(repo)
    covered = {path for test in indexed.values() for path in test.lines}
    return Index(
        revision=revision,
        tests=indexed,
        files=frozenset(files),
        import_lines=import_lines,
        importers=static_importers(repo, [f for f in files if f not in covered]),
        history=previous.history if previous is not None else History(),
    )


def _run_suite(repo: Path, python: str, tests: Sequence[str], work: Path) -> None:
    rcfile = work / "coveragerc"
    rcfile.write_text(
        "[run]\n"
        f"source = {repo}\n"
        "omit =\n    */.venv/*\n    */site-packages/*\n    */dist-packages/*\n"
        "disable_warnings = module-not-imported, no-data-collected, module-not-measured\n",
        encoding="utf-8",
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGIN_DIR), env.get("PYTHONPATH")]))
    env["AIROLLOUT_SELECTION_MARKERS"] = str(work / "markers.json")
    command = [
        python,
        *("-m", "coverage", "run", f"--rcfile={rcfile}", f"--data-file={work / 'coverage.data'}"),
        *("-m", "pytest", "-p", PLUGIN, f"--rootdir={repo}", f"--junitxml={work / 'junit.xml'}"),
        *("-q", "-p", "no:cacheprovider", *tests),
    ]
    try:
        done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    except OSError as error:
        raise SelectionInputError(f"--python {python}: cannot run it ({error})") from error
    if done.returncode not in USABLE_PYTEST_EXITS or not (work / "markers.json").exists():
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        raise SelectionInputError(
            f"--tests {' '.join(tests)}: pytest under coverage with {python} exited "
            f"{done.returncode}: {' | '.join(tail)}"
        )


def _contexts(repo: Path, data_file: Path) -> dict[str, dict[str, set[int]]]:
    """Repository-relative file -> context -> lines, from coverage's data file."""
    data = CoverageData(basename=str(data_file))
    data.read()
    found: dict[str, dict[str, set[int]]] = {}
    for measured in data.measured_files():
        try:
            path = Path(measured).resolve().relative_to(repo).as_posix()
        except ValueError:
            continue
        by_context = found.setdefault(path, {})
        for line, contexts in data.contexts_by_lineno(measured).items():
            for context in contexts:
                by_context.setdefault(context, set()).add(line)
    return found


def static_importers(repo: Path, uncovered: Sequence[str]) -> Mapping[str, tuple[str, ...]]:
    """For each Python file no test runs, the files that import it, directly or not."""
    import grimp  # deferred: only index builds need it, and it takes a moment to load

    roots = _package_roots(repo)
    modules = {
        _module_of(root, repo, path): path for root in roots for path in _python_files(root, repo)
    }
    packages = sorted({name.split(".")[0] for name in modules})
    if not packages:
        return {}
    sys.path[:0] = [str(root) for root in roots]
    try:
        graph = grimp.build_graph(*packages, cache_dir=None)
    except Exception as error:  # a syntax error in one file should not stop the index
        print(f"airollout select index: no import graph ({error})", file=sys.stderr)
        return {}
    finally:
        del sys.path[: len(roots)]
    wanted = set(uncovered)
    importers: dict[str, tuple[str, ...]] = {}
    for module, path in modules.items():
        if path in wanted and module in graph.modules:
            downstream = graph.find_downstream_modules(module)
            importers[path] = tuple(sorted(modules[m] for m in downstream if m in modules))
    return importers


def _package_roots(repo: Path) -> list[Path]:
    return [root for root in (repo, repo / "src") if root.is_dir()]


def _python_files(root: Path, repo: Path) -> list[str]:
    return [
        path.relative_to(repo).as_posix()
        for package in root.iterdir()
        if (package / "__init__.py").is_file() and package.name.isidentifier()
        for path in package.rglob("*.py")
    ]


def _module_of(root: Path, repo: Path, path: str) -> str:
    parts = list(Path(path).relative_to(root.relative_to(repo)).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)
