"""The change between two revisions, and where the index's revision stands, from git."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

from airollout.core.selection.diff import (
    ADDED,
    MODIFIED,
    FileChange,
    changed_paths,
    parse_unified_diff,
)
from airollout.core.selection.index import SelectionInputError


def git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "-c", "core.quotePath=false", *args],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as error:
        raise SelectionInputError("git is not installed") from error
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1:] or ["failed"]
        raise SelectionInputError(f"git {' '.join(args[:2])} in {repo}: {message[0]}")
    return done.stdout


def resolve(repo: Path, revision: str, flag: str) -> str:
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").strip()
    except SelectionInputError as error:
        raise SelectionInputError(f"{flag} {revision}: not a commit in {repo}") from error


def diff(repo: Path, base: str, head: str) -> list[FileChange]:
    text = git(repo, "diff", "--unified=0", "-M", "--no-color", "--no-ext-diff", base, head)
    return parse_unified_diff(text)


@dataclasses.dataclass(frozen=True)
class Change:
    changes: list[FileChange]
    commits_behind: int | None  # the index's revision behind the base; None: not an ancestor


def change_for_index(repo: Path, base: str, head: str, index_revision: str) -> Change:
    """The base..head change in the index revision's line numbers.

    An index built at an ancestor of the base is diffed from its own revision, limited to
    the files base..head changed: a superset of the change's lines, in numbers it knows.
    """
    changes = diff(repo, base, head)
    if index_revision == base:
        return Change(changes, 0)
    if not _is_ancestor(repo, index_revision, base):
        return Change(changes, None)
    behind = int(git(repo, "rev-list", "--count", f"{index_revision}..{base}").strip())
    touched = changed_paths(changes)
    in_change = {change.path: change.status for change in changes}
    wider = [
        _as_in_change(change, in_change)
        for change in diff(repo, index_revision, head)
        if change.path in touched or change.old_path in touched
    ]
    return Change(wider, behind)


def _as_in_change(change: FileChange, in_change: dict[str, str]) -> FileChange:
    """A file added since the index but already at the base is not new in this change: the
    plan must read it as a file the index never saw, not as a new module that only its
    changed importers run (its importers may not have changed at all)."""
    if change.status == ADDED and in_change.get(change.path, ADDED) != ADDED:
        return dataclasses.replace(change, status=MODIFIED)
    return change


def _is_ancestor(repo: Path, older: str, newer: str) -> bool:
    done = subprocess.run(
        ["git", "-C", str(repo), "merge-base", "--is-ancestor", older, newer],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def tracked_files(repo: Path) -> list[str]:
    return [line for line in git(repo, "ls-files", "-z").split("\0") if line]


def read_at(repo: Path, revision: str, path: str) -> str | None:
    """A file's text at a revision; None where it does not exist there."""
    done = subprocess.run(
        ["git", "-C", str(repo), "show", f"{revision}:{path}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else None


def changed_files(repo: Path, base: str, head: str) -> list[str]:
    return [p for p in git(repo, "diff", "--name-only", "-z", base, head).split("\0") if p]
