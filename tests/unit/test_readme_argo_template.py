"""The README shows the AnalysisTemplate that the end-to-end test applies, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "examples" / "argo-rollouts" / "analysistemplate.yaml"


def _yaml_blocks(markdown: str) -> list[str]:
    blocks, inside, lines = [], False, []
    for line in markdown.splitlines(keepends=True):
        if line.startswith("```"):
            if inside:
                blocks.append("".join(lines))
            inside, lines = (not inside and line.strip() == "```yaml"), []
        elif inside:
            lines.append(line)
    return blocks


def test_readme_shows_the_tested_analysis_template() -> None:
    readme = (REPO / "README.md").read_text()
    assert TEMPLATE.read_text() in _yaml_blocks(readme)
