"""The GitHub Action (action.yml) and the example workflows, checked by the real actionlint.

actionlint checks workflows, and an action only through a workflow that `uses:` it from the
same repository: it then parses action.yml and checks the inputs passed against it. So each
example is linted as it is, and again with its `uses:` pointed at this repository's action.
What actionlint does not look at (the expressions and scripts inside action.yml) is checked
here directly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcluster.layout import bin_dir_from_env

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTION = REPO_ROOT / "action.yml"
EXAMPLES = REPO_ROOT / "examples" / "github"
# How the examples name the published action; the copies below use the local one instead.
PUBLISHED_USES = re.compile(r"uses: [\w.-]+/airollout@v\d+")


@pytest.fixture(scope="module")
def actionlint() -> Path:
    binary = bin_dir_from_env() / "actionlint"
    if not binary.exists():
        pytest.skip(f"no {binary}: run `hack/build-tools.sh actionlint` (make tools)")
    return binary


def lint(actionlint: Path, project: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    """actionlint run in `project` (it resolves `uses: ./` against the enclosing repository)."""
    argv = [str(actionlint), "-no-color", *(str(f) for f in files)]
    return subprocess.run(argv, cwd=project, capture_output=True, text=True, timeout=60)


def local_action_project(tmp_path: Path, workflows: dict[str, str]) -> Path:
    """A repository holding this action.yml and `workflows` in .github/workflows/."""
    (tmp_path / ".git").mkdir()
    shutil.copy(ACTION, tmp_path / "action.yml")
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for name, text in workflows.items():
        (folder / name).write_text(text)
    return tmp_path


def with_local_action(workflow: str) -> str:
    local, count = PUBLISHED_USES.subn("uses: ./", workflow)
    assert count >= 1, "the example uses the AIRollout action"
    return local


def examples() -> list[Path]:
    return sorted(EXAMPLES.iterdir())


def test_the_example_folder_holds_only_workflows() -> None:
    """So that linting every file there checks every example."""
    assert "deploy.yml" in [p.name for p in examples()]
    assert [p.name for p in examples() if p.suffix not in (".yml", ".yaml")] == []


@pytest.mark.parametrize("example", examples(), ids=lambda p: p.name)
def test_every_example_workflow_passes_actionlint(actionlint: Path, example: Path) -> None:
    result = lint(actionlint, REPO_ROOT, example)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("example", examples(), ids=lambda p: p.name)
def test_the_examples_pass_actionlint_against_this_action(
    actionlint: Path, example: Path, tmp_path: Path
) -> None:
    project = local_action_project(tmp_path, {example.name: with_local_action(example.read_text())})
    result = lint(actionlint, project)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_reads_this_action_and_rejects_a_wrong_input(
    actionlint: Path, tmp_path: Path
) -> None:
    """The check above can fail: a misspelt input is reported."""
    workflow = """
on: push
jobs:
  canary:
    runs-on: ubuntu-latest
    steps:
      - uses: ./
        with:
          manfest: rollout.yaml
"""
    result = lint(actionlint, local_action_project(tmp_path, {"canary.yml": workflow}))
    assert result.returncode == 1
    assert 'input "manfest" is not defined in action "AIRollout"' in result.stdout


def action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return loaded


def test_every_input_and_step_output_the_action_reads_exists() -> None:
    text, spec = ACTION.read_text(), action()
    steps = {step["id"] for step in spec["runs"]["steps"] if "id" in step}
    used_inputs = set(re.findall(r"inputs\.([\w-]+)", text))
    used_steps = set(re.findall(r"steps\.([\w-]+)\.outputs", text))
    assert used_inputs == set(spec["inputs"]), "every input is used, and only declared ones"
    assert used_steps <= steps
    assert {"phase", "decision"} <= set(spec["outputs"])
    assert spec["outputs"]["phase"]["value"] == "${{ steps.watch.outputs.phase }}"
    # Only the rollout stage needs a manifest (its first step checks); rollout is the default.
    assert spec["inputs"]["stage"]["default"] == "rollout"


def test_no_script_of_the_action_interpolates_an_expression() -> None:
    """Values reach scripts through env: ${{ }} inside `run` would let an input inject shell."""
    scripts = [step["run"] for step in action()["runs"]["steps"]]
    assert scripts
    assert [s for s in scripts if "${{" in s] == []


@pytest.mark.parametrize("step", action()["runs"]["steps"], ids=lambda s: s["name"])
def test_every_script_of_the_action_is_valid_bash(step: dict[str, Any]) -> None:
    assert step["shell"] == "bash"
    checked = subprocess.run(
        ["bash", "-n"], input=step["run"], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
