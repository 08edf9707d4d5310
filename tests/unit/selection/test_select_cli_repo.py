"""`airollout select` on a real, tiny git repository: a real index built by running its
pytest under coverage with this project's interpreter, then plans, history and shards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airollout.adapters.selection.store import load_index
from airollout.cli.main import main

pytestmark = pytest.mark.unit

FILES = {
    "calc/__init__.py": "",
    "calc/ops.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
    "calc/fmt.py": (
        "from calc import util\nfrom calc.ops import add\n\n\n"
        "def total(a, b):\n    return f'total {add(a, b)}'\n"
    ),
    "calc/util.py": "def double(x):\n    return 2 * x\n",
    "calc/report.py": "from calc.fmt import total\n\n\ndef report():\n    return total(1, 2)\n",
    "tests/conftest.py": (
        "import pytest\n\n\n@pytest.fixture\ndef numbers():\n    return (2, 1)\n"
    ),
    "tests/test_ops.py": (
        "from calc.ops import add, sub\n\n\n"
        "def test_add(numbers):\n    assert add(*numbers) == 3\n\n\n"
        "def test_sub(numbers):\n    assert sub(*numbers) == 1\n"
    ),
    "tests/test_fmt.py": (
        "import pytest\n\nfrom calc.fmt import total\n\n\n"
        "@pytest.mark.slow\ndef test_total():\n    assert total(1, 2) == 'total 3'\n"
    ),
}
ADD, SUB, TOTAL = (
    "tests/test_ops.py::test_add",
    "tests/test_ops.py::test_sub",
    "tests/test_fmt.py::test_total",
)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    repo = tmp_path_factory.mktemp("calc")
    for path, text in FILES.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    index = repo.parent / "calc-index.json.gz"
    build = ["select", "index", "--repo", str(repo), "--python", sys.executable]
    assert main([*build, "--tests", "tests", "--out", str(index)]) == 0
    return repo, index


def change(repo: Path, branch: str, path: str, old: str, new: str) -> None:
    git(repo, "checkout", "-q", "-B", branch, "main")
    target = repo / path
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new))
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", branch)


def plan(repo: Path, index: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> Any:
    capsys.readouterr()
    command = ["select", "plan", "--repo", str(repo), "--base", "main", "--head", "HEAD"]
    rc = main([*command, "--index", str(index), *extra])
    assert rc == 0
    out = capsys.readouterr().out
    return json.loads(out) if "--json" in extra else out


def test_the_index_holds_each_test_its_lines_and_the_static_graph(
    indexed: tuple[Path, Path],
) -> None:
    repo, path = indexed
    index = load_index(path)
    assert set(index.tests) == {ADD, SUB, TOTAL}
    assert index.revision == git(repo, "rev-parse", "main")
    assert index.tests[SUB].lines["calc/ops.py"] == {6}
    assert index.tests[ADD].lines["tests/conftest.py"] == {6}  # the fixture ran in setup
    assert index.tests[TOTAL].markers == ("slow",)
    assert {1, 5} <= index.import_lines["calc/ops.py"]  # the def lines run at import
    assert index.importers["calc/report.py"] == ()
    assert index.importers["calc/util.py"] == ("calc/fmt.py", "calc/report.py")
    assert index.tests[ADD].outcome == "passed"


def test_a_changed_line_selects_exactly_the_tests_that_run_it(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, index = indexed
    change(repo, "sub", "calc/ops.py", "return a - b", "return b - a")
    chosen = plan(repo, index, capsys, "--json")
    assert chosen["tests"] == [SUB]
    assert (chosen["full_suite"], chosen["risk_tier"]) == (False, "low")
    assert chosen["shards"] == [[SUB]]
    change(repo, "add", "calc/ops.py", "return a + b", "return a + b + 0")
    assert set(plan(repo, index, capsys, "--json")["tests"]) == {ADD, TOTAL}


def test_a_file_no_test_runs_selects_the_tests_of_its_importers(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, index = indexed
    change(repo, "util", "calc/util.py", "2 * x", "x + x")
    chosen = plan(repo, index, capsys, "--json")
    assert chosen["tests"] == [TOTAL]
    assert "importers" in chosen["reasoning"]


def test_a_conftest_change_escalates_to_the_full_suite(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, index = indexed
    change(repo, "conftest", "tests/conftest.py", "(2, 1)", "(2, 1)  # same")
    chosen = plan(repo, index, capsys, "--json")
    assert chosen["full_suite"] is True
    assert sorted(chosen["tests"]) == sorted([ADD, SUB, TOTAL])
    assert chosen["risk_tier"] == "high"
    assert "tests/conftest.py" in chosen["reasoning"]


def test_github_outputs_carry_the_plan_the_tier_and_the_matrix(
    indexed: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, index = indexed
    outputs, summary = tmp_path / "out", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    change(repo, "sub", "calc/ops.py", "return a - b", "return b - a")
    plan(repo, index, capsys, "--github")
    written = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert json.loads(written["test_plan"])["tests"] == [SUB]
    assert written["risk_tier"] == "low"
    assert json.loads(written["matrix"]) == {"shard": [0]}
    assert SUB in summary.read_text()


def test_run_shard_reports_a_failing_test(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo, index = indexed
    change(repo, "broken", "calc/ops.py", "return a + b", "return a - b")
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan(repo, index, capsys, "--json")))
    command = ["select", "run-shard", "--plan", str(plan_file), "--index", "0"]
    rc = main([*command, "--repo", str(repo), "--python", sys.executable])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 1
    assert (report["passed"], report["failed"], report["skipped"]) == (0, 2, 0)
    assert sorted(report["failing"]) == sorted([ADD, TOTAL])


def test_recorded_failures_add_their_tests_next_time(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo, index = indexed
    learned = tmp_path / "learned.json.gz"
    learned.write_bytes(index.read_bytes())
    change(repo, "sub", "calc/ops.py", "return a - b", "return b - a")
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest" tests="1">'
        '<testcase classname="tests.test_fmt" name="test_total" time="0.1">'
        '<failure message="boom"/></testcase></testsuite></testsuites>'
    )
    command = ["select", "record", str(junit), "--index", str(learned)]
    rc = main([*command, "--revision", "HEAD", "--repo", str(repo)])
    assert rc == 0
    assert load_index(learned).history.cofailures == {TOTAL: {"calc/ops.py": 1}}
    assert plan(repo, learned, capsys, "--json")["tests"] == [TOTAL, SUB]


def test_bad_input_is_one_line_naming_the_file(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo, _ = indexed
    missing = tmp_path / "none.json"
    rc = main(["select", "plan", "--repo", str(repo), "--base", "main", "--index", str(missing)])
    error = capsys.readouterr().err.strip()
    assert rc == 2
    assert error == f"airollout select plan: {missing}: no such index file"
    command = ["select", "plan", "--repo", str(repo), "--base", "nope"]
    rc = main([*command, "--index", str(indexed[1])])
    assert rc == 2
    assert "--base nope: not a commit" in capsys.readouterr().err
