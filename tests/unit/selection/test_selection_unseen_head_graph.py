"""A module newer than the index: the plan asks the head tree's import graph who uses it,
on a real tiny git repository with a real index, instead of running the full suite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airollout.cli.main import main

pytestmark = pytest.mark.unit

INDEXED = {
    "calc/__init__.py": "",
    "calc/ops.py": "def add(a, b):\n    return a + b\n",
    "tests/test_ops.py": (
        "from calc.ops import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    ),
}
# added after the index: geo is imported by test_area directly and by test_report through
# calc.report; test_geo is only named after it; test_other never reaches it
LATER = {
    "calc/geo.py": "def area(w, h):\n    return w * h\n",
    "calc/report.py": "from calc.geo import area\n\n\ndef line():\n    return f'{area(2, 3)}'\n",
    "scripts/tool.py": "print('a script in no package')\n",
    "tests/test_area.py": (
        "from calc.geo import area\n\n\ndef test_area():\n    assert area(2, 3) == 6\n"
    ),
    "tests/test_report.py": (
        "from calc import report\n\n\ndef test_line():\n    assert report.line()\n"
    ),
    "tests/test_geo.py": "def test_by_name_only():\n    assert True\n",
    "tests/test_other.py": (
        "from calc.ops import add\n\n\ndef test_other():\n    assert add(0, 0) == 0\n"
    ),
}
IMPORTERS = {"tests/test_area.py", "tests/test_report.py"}


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    done = subprocess.run(
        ["git", "-C", str(repo), *identity, *args], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    repo = tmp_path_factory.mktemp("unseen")
    git(repo, "init", "-q", "-b", "main")
    commit(repo, INDEXED, "indexed")
    index = repo.parent / "unseen-index.json.gz"
    build = ["select", "index", "--repo", str(repo), "--python", sys.executable]
    assert main([*build, "--tests", "tests", "--out", str(index)]) == 0
    base = commit(repo, LATER, "modules after the index")
    return repo, index, base


def change(repo: Path, base: str, branch: str, files: dict[str, str]) -> str:
    git(repo, "checkout", "-q", "-B", branch, base)
    return commit(repo, files, branch)


def plan(repo: Path, index: Path, base: str, head: str, capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    command = ["select", "plan", "--repo", str(repo), "--base", base, "--head", head]
    assert main([*command, "--index", str(index), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_module_newer_than_the_index_runs_the_tests_that_import_it_at_the_head(
    indexed: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, index, base = indexed
    head = change(repo, base, "geo", {"calc/geo.py": "def area(w, h):\n    return w + h\n"})
    chosen = plan(repo, index, base, head, capsys)
    assert not chosen["full_suite"]
    assert set(chosen["tests"]) == IMPORTERS | {"tests/test_geo.py"}
    assert chosen["risk_tier"] == "medium"
    assert "calc/geo.py: the index never saw this file" in chosen["reasoning"]
    assert "2 test files import it at the head, 1 are named after it" in chosen["reasoning"]


def test_the_head_is_read_from_git_when_the_checkout_is_elsewhere(
    indexed: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, index, base = indexed
    head = change(repo, base, "report", {"calc/report.py": "from calc.geo import area\n"})
    git(repo, "checkout", "-q", base)
    chosen = plan(repo, index, base, head, capsys)
    assert not chosen["full_suite"]
    assert set(chosen["tests"]) == {"tests/test_report.py"}


def test_a_syntax_error_at_the_head_falls_back_to_the_full_suite_and_says_why(
    indexed: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, index, base = indexed
    head = change(repo, base, "broken", {"calc/geo.py": "def area(w, h:\n    return w\n"})
    chosen = plan(repo, index, base, head, capsys)
    assert chosen["full_suite"]
    assert chosen["risk_tier"] == "high"
    assert "the head's import graph could not be built" in chosen["reasoning"]
    assert "calc/geo.py: the index never saw this file" in chosen["reasoning"]


def test_a_module_in_no_package_runs_the_full_suite(
    indexed: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, index, base = indexed
    head = change(repo, base, "script", {"scripts/tool.py": "print('changed')\n"})
    chosen = plan(repo, index, base, head, capsys)
    assert chosen["full_suite"]
    assert "scripts/tool.py" in chosen["reasoning"]
    assert "in no package" in chosen["reasoning"]


def test_the_repository_can_keep_the_full_suite_for_unseen_modules(
    indexed: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, index, base = indexed
    config = "unseen_python:\n  action: full_suite\n  reason: we trust no graph\n"
    with_config = change(repo, base, "config", {".airollout/selection.yaml": config})
    head = change(
        repo, with_config, "geo-config", {"calc/geo.py": "def area(w, h):\n    return 0\n"}
    )
    chosen = plan(repo, index, with_config, head, capsys)
    assert chosen["full_suite"]
    assert "calc/geo.py: we trust no graph: full suite" in chosen["reasoning"]
