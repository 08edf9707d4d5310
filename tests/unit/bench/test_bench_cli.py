"""`airollout bench decisions` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airollout.cli.main import main

pytestmark = pytest.mark.unit


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "good.yaml").write_text("expect: proceed\n")
    (tmp_path / "bad-canary.yaml").write_text("expect: rollback\ncanary: {error_rate: 0.3}\n")
    return tmp_path


def test_json_flag_prints_exactly_one_json_object(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["bench", "decisions", str(folder), "--json", "--judges", "argo-threshold"])
    out = capsys.readouterr().out
    assert code == 0
    document = json.loads(out)
    assert document["scenarios"] == 2
    assert document["judges"]["argo-threshold"]["outcomes"] == {
        "bad-canary": "rollback",
        "good": "proceed",
    }


def test_table_is_the_default_output(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "decisions", str(folder), "--judges", "flagger-threshold"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:2] == ["judge", "right"]
    assert "flagger-threshold" in out


def test_malformed_scenario_exits_2_naming_file_and_field(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "broken.yaml").write_text("expect: proceed\nslices: [50, 25, 100]\n")
    assert main(["bench", "decisions", str(folder)]) == 2
    assert "broken.yaml: slices[1]: must be greater" in capsys.readouterr().err


def test_unknown_judge_exits_2_listing_the_available_ones(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "decisions", str(folder), "--judges", "nope"]) == 2
    assert "kayenta-mwu" in capsys.readouterr().err
