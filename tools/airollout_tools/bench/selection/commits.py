"""The history the benchmark replays: real commits, read and checked out in a scratch worktree.

The caller's checkout is never touched: every checkout, mutation and throwaway commit
happens in a `git worktree` under a temporary folder, removed at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from airollout.adapters.selection.git import git, resolve
from airollout.core.selection.index import SelectionInputError

_HUNK_HEAD = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
# a fixed identity and date: the throwaway mutant commits need no user configuration
_COMMITTER = {
    "GIT_AUTHOR_NAME": "airollout bench",
    "GIT_AUTHOR_EMAIL": "bench@airollout.invalid",
    "GIT_COMMITTER_NAME": "airollout bench",
    "GIT_COMMITTER_EMAIL": "bench@airollout.invalid",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
}


@dataclasses.dataclass(frozen=True)
class Commit:
    sha: str
    parent: str
    subject: str
    # Python source under the tested package -> the lines the commit wrote (head numbers)
    changed: dict[str, frozenset[int]]


def commits_after(repo: Path, index_at: str, sources: Sequence[str], limit: int) -> list[Commit]:
    """The first `limit` non-merge commits after `index_at` on HEAD's first-parent line,
    oldest first, that change Python source under `sources`."""
    start = resolve(repo, index_at, "--index-at")
    log = git(
        repo,
        "log",
        "--reverse",
        "--no-merges",
        "--first-parent",
        "--format=%H %P",
        f"{start}..HEAD",
        "--",
        *sources,
    )
    found: list[Commit] = []
    for line in log.splitlines():
        sha, *parents = line.split()
        if len(parents) != 1:
            continue
        changed = changed_lines(repo, parents[0], sha, sources)
        if changed:
            subject = git(repo, "log", "-1", "--format=%s", sha).strip()
            found.append(Commit(sha, parents[0], subject, changed))
        if len(found) == limit:
            break
    return found


def changed_lines(
    repo: Path, base: str, head: str, sources: Sequence[str]
) -> dict[str, frozenset[int]]:
    """Python file -> the head-side lines base..head added or rewrote (deleted files none)."""
    text = git(
        repo,
        "diff",
        "--unified=0",
        "--no-color",
        "--no-ext-diff",
        "--diff-filter=AMR",
        base,
        head,
        "--",
        *sources,
    )
    changed: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            path = line[len("+++ b/") :]
            current = changed.setdefault(path, set()) if path.endswith(".py") else None
        elif current is not None and (match := _HUNK_HEAD.match(line)):
            first, count = int(match.group(1)), int(match.group(2) or "1")
            current.update(range(first, first + count))
    return {path: frozenset(lines) for path, lines in changed.items() if lines}


@contextlib.contextmanager
def scratch_worktree(repo: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="airollout-bench-selection-") as scratch:
        tree = Path(scratch) / "tree"
        git(repo, "worktree", "add", "--detach", "--quiet", str(tree), "HEAD")
        try:
            yield tree
        finally:
            git(repo, "worktree", "remove", "--force", str(tree))


def checkout(tree: Path, revision: str) -> None:
    """The revision's files exactly: earlier mutants and build leftovers gone."""
    git(tree, "checkout", "--force", "--detach", "--quiet", revision)
    git(tree, "clean", "-fdxq")


def commit_all(tree: Path, message: str) -> str:
    env = {**os.environ, **_COMMITTER}
    done = subprocess.run(
        ["git", "-C", str(tree), "commit", "-q", "-a", "--no-verify", "-m", message],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SelectionInputError(f"git commit in {tree}: {done.stderr.strip() or 'failed'}")
    return git(tree, "rev-parse", "HEAD").strip()
