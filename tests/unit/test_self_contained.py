"""A clone works with nothing beside it: no tracked file outside the docs names the sibling
`shared` folder (the design notes' and the shared scenarios' home) as a path it needs.

Comments and docstrings may mention it (history, credit); code, scripts and configuration
may not, except where a use is optional by construction (ALLOWED, with the reason).
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import tokenize
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SIBLING = "shared"  # spelled once, so this file does not match its own patterns
NEEDS_SIBLING = re.compile(rf"\.\./{SIBLING}\b|/{SIBLING}/|/\s*[\"']{SIBLING}[\"']")
ALLOWED = {
    # make bench-decisions adds the shared set only when $(wildcard) finds it.
    ("Makefile", f"SCENARIOS ?= scenarios $(wildcard ../{SIBLING}/scenarios)"),
}


def tracked_files() -> list[str]:
    # safe.directory: CI may run as another user than the one owning the checkout.
    command = ["git", "-c", f"safe.directory={REPO}", "ls-files", "-z"]
    listed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    return [name for name in listed.stdout.split("\0") if name and not is_doc(name)]


def is_doc(name: str) -> bool:
    return name.endswith(".md") or name.startswith("docs/")


def python_code(source: str) -> str:
    """The source with comments and docstrings blanked out, line numbers kept."""
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            for number in range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1):
                lines[number - 1] = ""
    kept = "\n".join(lines)
    tokens = tokenize.generate_tokens(io.StringIO(kept).readline)
    comments = [t for t in tokens if t.type == tokenize.COMMENT]
    for comment in comments:
        row, col = comment.start
        lines[row - 1] = lines[row - 1][:col]
    return "\n".join(lines)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def other_code(source: str) -> str:
    """Shell, make, YAML and the like: `#` comments (whole-line or after a space) dropped."""
    return "\n".join(re.sub(r"(^|\s)#.*", "", line) for line in source.splitlines())


def uses_of_the_sibling(name: str) -> list[str]:
    try:
        source = (REPO / name).read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError):
        return []  # binary, or deleted in the working tree
    code = python_code(source) if name.endswith(".py") else other_code(source)
    return [
        f"{name}:{number}: {line.strip()}"
        for number, line in enumerate(code.splitlines(), start=1)
        if NEEDS_SIBLING.search(line) and (name, line.strip()) not in ALLOWED
    ]


def test_no_tracked_file_needs_the_sibling_folder() -> None:
    files = tracked_files()
    assert {"Makefile", "hack/demo.sh", ".ci/run"} <= set(files)
    found = [use for name in files for use in uses_of_the_sibling(name)]
    assert found == []


@pytest.mark.parametrize(
    ("name", "source", "found"),
    [
        ("a.py", f'ROOT = HERE.parent / "{SIBLING}" / "x"\n', True),
        ("a.py", f'"""From ../{SIBLING}/scenarios once."""\nX = 1  # ../{SIBLING}/x\n', False),
        ("a.sh", f'DIR="${{X:-$REPO/../{SIBLING}/scenarios}}"\n', True),
        ("a.sh", f"# default was ../{SIBLING}/scenarios\n", False),
    ],
)
def test_code_is_caught_and_comments_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str, found: bool
) -> None:
    (tmp_path / name).write_text(source)
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert bool(uses_of_the_sibling(name)) is found


# Package registries and download hosts, in pieces so that this file does not name them.
REGISTRY_HOSTS = re.compile(
    "|".join(
        re.escape(".".join(parts))
        for parts in [
            ("proxy", "golang", "org"),
            ("pypi", "org"),
            ("files", "pythonhosted", "org"),
            ("registry", "npmjs", "org"),
            ("deb", "debian", "org"),
            ("dl", "google", "com"),
        ]
    ),
    re.IGNORECASE,
)
# uv writes every wheel's address into its lock file; the project's own files name no host.
GENERATED = {"uv.lock"}


def test_no_tracked_file_names_a_package_registry() -> None:
    found = []
    for name in tracked_files():
        path = REPO / name
        if name in GENERATED or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{name}: {m.group(0)}" for m in REGISTRY_HOSTS.finditer(text)]
    assert found == []
