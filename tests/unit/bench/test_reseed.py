"""The second scenario folder: the same cases as the first, with fresh seeds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from airollout_tools.bench.reseed import main, reseed
from airollout_tools.sim.model import SliceStart
from airollout_tools.sim.scenario import ScenarioError, load_folder
from airollout_tools.sim.simulator import simulate_window

pytestmark = pytest.mark.unit

REPO_SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


def test_every_case_is_copied_with_its_own_new_seed_and_nothing_else_changed(
    tmp_path: Path,
) -> None:
    sources = load_folder(REPO_SCENARIOS)

    written = reseed([REPO_SCENARIOS], tmp_path, 9000, 2)

    copies = load_folder(tmp_path)
    assert len(written) == len(copies) == 2 * len(sources)
    assert sorted(copy.seed for copy in copies) == list(range(9000, 9000 + len(copies)))
    by_name = {source.name: source for source in sources}
    for copy in copies:
        source = by_name[copy.name.rsplit("-s", 1)[0]]
        assert replace(copy, name=source.name, seed=source.seed) == source


def test_a_copy_draws_other_traffic_than_its_source(tmp_path: Path) -> None:
    [source] = [s for s in load_folder(REPO_SCENARIOS) if s.name == "steady-twins"]
    reseed([REPO_SCENARIOS], tmp_path, 500, 1)
    [copy] = [s for s in load_folder(tmp_path) if s.name.startswith("steady-twins-s")]

    history = [SliceStart(0.0, 10)]
    drawn = [simulate_window(s, history, 1, 0.0).observations for s in (source, copy)]

    assert drawn[0] != drawn[1]


def test_the_command_refuses_a_malformed_source_naming_the_field(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad.yaml").write_text("expect: sideways\n")

    with pytest.raises(ScenarioError, match=r"bad\.yaml: expect"):
        main([str(tmp_path / "out"), "1", "1", str(folder)])
