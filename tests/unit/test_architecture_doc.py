"""docs/architecture.md describes the tree as it is: every file it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "operator" / "airollout"
DOC = REPO / "docs" / "architecture.md"


def _named_paths() -> list[str]:
    named = re.findall(r"`([a-z_]+(?:/[a-z_]+)*(?:\.py|/))`", DOC.read_text())
    return sorted({path for path in named if "/" in path})


def test_the_doc_names_files_of_every_layer() -> None:
    layers = {path.split("/", 1)[0] for path in _named_paths()}
    assert {"cli", "controller", "web", "adapters", "core"} <= layers


@pytest.mark.parametrize("path", _named_paths())
def test_every_file_the_doc_names_exists(path: str) -> None:
    assert (PACKAGE / path).exists() or (REPO / path).exists(), f"{path} is not in the tree"


def test_every_top_level_package_is_in_the_doc() -> None:
    text = DOC.read_text()
    packages = [entry.name for entry in PACKAGE.iterdir() if (entry / "__init__.py").is_file()]
    assert all(f"{name}/" in text for name in packages), packages
