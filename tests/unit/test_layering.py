"""The layering contracts really fail when a module reaches for I/O or up a layer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports_on_copy(
    tmp_path: Path, module: str, source: str
) -> subprocess.CompletedProcess[str]:
    """Run the project's contract over a copy of the package with one module added."""
    shutil.copytree(REPO / "operator" / "airollout", tmp_path / "airollout")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / (module.replace(".", "/") + ".py")
    target.write_text(source)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("airollout.core.analysis.probe", "kubernetes"),
        ("airollout.core.rollout.probe", "kopf"),
        ("airollout.core.judge.probe", "urllib3"),
        ("airollout.core.resource.probe", "airollout.controller"),
    ],
)
def test_pure_package_importing_io_breaks_the_contract(
    tmp_path: Path, module: str, forbidden: str
) -> None:
    result = _lint_imports_on_copy(tmp_path, module, f"import {forbidden}\n")
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
    assert f"{module} -> {forbidden}" in result.stdout


def test_controller_may_import_kubernetes(tmp_path: Path) -> None:
    result = _lint_imports_on_copy(tmp_path, "airollout.controller.probe", "import kubernetes\n")
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("airollout.adapters.probe", "airollout.controller.reconcile"),
        ("airollout.controller.probe", "airollout.cli.main"),
        ("airollout.core.resource.probe", "airollout.core.judge.types"),
        ("airollout.core.analysis.probe", "airollout.core.rollout.machine"),
        ("airollout.controller.probe", "airollout_tools.sim.simulator"),
    ],
)
def test_importing_upward_or_the_tools_breaks_a_layer(
    tmp_path: Path, module: str, imported: str
) -> None:
    result = _lint_imports_on_copy(tmp_path, module, f"import {imported}\n")
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
    assert module in result.stdout
    assert imported.rsplit(".", 1)[0] in result.stdout


def test_a_layer_may_import_the_layers_below(tmp_path: Path) -> None:
    source = "import airollout.adapters.traffic.registry\nimport airollout.core.rollout.machine\n"
    result = _lint_imports_on_copy(tmp_path, "airollout.controller.probe", source)
    assert result.returncode == 0, result.stdout
