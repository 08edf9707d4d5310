"""A change between two revisions, read from `git diff --unified=0 -M` text.

Lines are named in the base revision's numbers, the ones the index knows: a removed or
replaced line by its own number, an insertion by the base line it follows (0: the top).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from airollout.core.selection.index import SelectionInputError

ADDED, DELETED, MODIFIED, RENAMED = "added", "deleted", "modified", "renamed"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclasses.dataclass(frozen=True)
class FileChange:
    path: str  # at the head; for a deleted file, its base path
    old_path: str  # at the base; for an added file, its head path
    status: str
    removed: frozenset[int] = frozenset()
    inserted_after: frozenset[int] = frozenset()

    def base_lines(self) -> frozenset[int]:
        """Base lines whose tests can see the change: removed ones and those beside insertions."""
        beside = {line for after in self.inserted_after for line in (after, after + 1)}
        return self.removed | frozenset(line for line in beside if line > 0)


@dataclasses.dataclass
class _Building:
    old_path: str = ""
    path: str = ""
    status: str = MODIFIED
    removed: set[int] = dataclasses.field(default_factory=set)
    inserted_after: set[int] = dataclasses.field(default_factory=set)

    def done(self) -> FileChange:
        return FileChange(
            path=self.old_path if self.status == DELETED else self.path,
            old_path=self.path if self.status == ADDED else self.old_path,
            status=self.status,
            removed=frozenset(self.removed),
            inserted_after=frozenset(self.inserted_after),
        )


def parse_unified_diff(text: str) -> list[FileChange]:
    changes: list[FileChange] = []
    current: _Building | None = None
    for line in text.splitlines():
        if line.startswith("diff --git "):
            if current is not None:
                changes.append(current.done())
            current = _Building()
            current.old_path = current.path = _same_path(line[len("diff --git ") :])
        elif current is None:
            continue
        else:
            _read_header_or_hunk(current, line)
    if current is not None:
        changes.append(current.done())
    return changes


def _read_header_or_hunk(current: _Building, line: str) -> None:
    if line.startswith("new file mode"):
        current.status = ADDED
    elif line.startswith("deleted file mode"):
        current.status = DELETED
    elif line.startswith("rename from "):
        current.status, current.old_path = RENAMED, line[len("rename from ") :]
    elif line.startswith("rename to "):
        current.path = line[len("rename to ") :]
    elif line.startswith("--- a/"):
        current.old_path = line[len("--- a/") :]
    elif line.startswith("+++ b/"):
        current.path = line[len("+++ b/") :]
    elif match := _HUNK.match(line):
        start, count = int(match.group(1)), int(match.group(2) or "1")
        if count:
            current.removed.update(range(start, start + count))
        else:
            current.inserted_after.add(start)


def _same_path(header: str) -> str:
    """`a/P b/P` -> P; other headers (renames, odd names) are named by later lines."""
    size = (len(header) - 5) // 2
    path = header[2 : 2 + size]
    return path if header == f"a/{path} b/{path}" else ""


def changed_paths(changes: Iterable[FileChange]) -> set[str]:
    return {path for change in changes for path in (change.path, change.old_path)}


def require_paths(changes: list[FileChange], where: str) -> list[FileChange]:
    for change in changes:
        if not change.path:
            raise SelectionInputError(f"{where}: a file of the diff has no readable path")
    return changes
