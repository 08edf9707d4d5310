"""Scenario files: the format's defaults fill what a file leaves out; malformed files are
rejected with a message naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from airollout.core.judge.types import Action
from airollout_tools.sim.scenario import (
    Behaviour,
    ScenarioError,
    Target,
    load_folder,
    load_scenario,
)

pytestmark = pytest.mark.unit


def test_defaults_fill_what_the_file_leaves_out(tmp_path: Path) -> None:
    path = tmp_path / "partial.yaml"
    path.write_text("expect: rollback\naccept: [hold]\nstable: {error_rate: 0.002}\n")
    scenario = load_scenario(path)
    assert scenario.name == "partial"
    assert scenario.expect is Action.ROLLBACK
    assert scenario.accept == (Action.HOLD,)
    assert scenario.slices == (10, 25, 50, 100)
    assert (scenario.window_s, scenario.rps, scenario.warmup_s, scenario.step_s) == (60, 100, 15, 5)
    assert scenario.stable == Behaviour(error_rate=0.002, latency_p50_ms=40, latency_p99_ms=200)
    assert scenario.canary == Behaviour(error_rate=0.001, latency_p50_ms=40, latency_p99_ms=200)
    assert (scenario.bounds.error_rate, scenario.bounds.latency_p99_ms) == (0.005, 500)
    assert scenario.seed == 1
    assert scenario.events == ()


def test_events_keep_their_timing_and_change(tmp_path: Path) -> None:
    path = tmp_path / "events.yaml"
    path.write_text(
        "name: custom\nexpect: rollback\nevents:\n"
        "  - {version: both, from_weight: 50, until_s: 400, set: {error_rate: 0.04}}\n"
        "  - {version: canary, from_s: 0, ramp: {latency_p99_ms: -5}}\n"
        "  - {version: stable, from_s: 30, missing: true}\n"
    )
    first, second, third = load_scenario(path).events
    assert (first.target, first.from_weight, first.until_s) == (Target.BOTH, 50, 400)
    assert first.assign == (("error_rate", 0.04),)
    assert second.ramp_per_min == (("latency_p99_ms", -5),)
    assert (third.target, third.from_s, third.missing) == (Target.STABLE, 30, True)


MALFORMED = [
    ("stable: {error_rate: 2}", "stable.error_rate: must be a number in [0, 1]"),
    ("stable: {error_rate: high}", "stable.error_rate: must be a number"),
    ("colour: blue", "colour: unknown field"),
    ("canary: {errors: 0.1}", "canary.errors: unknown field"),
    ("version: 2", "version: must be 1"),
    ("expect: maybe", "expect: must be one of"),
    ("accept: [hold, later]", "accept[1]: must be one of"),
    ("slices: [10, 50, 25, 100]", "slices[2]: must be greater"),
    ("slices: [10, 50]", "slices[1]: the last slice must be 100"),
    ("slices: [0, 100]", "slices[0]: must be an integer in [1, 100]"),
    ("slices: 10", "slices: must be a list"),
    ("window_s: 0", "window_s: must be a number > 0"),
    ("seed: 1.5", "seed: must be an integer"),
    ("rps: true", "rps: must be a number"),
    ("bounds: {latency_p99_ms: -1}", "bounds.latency_p99_ms: must be a number > 0"),
    ("events: [{version: canary, set: {error_rate: 0.1}}]", "events[0]: needs exactly one of"),
    (
        "events: [{version: canary, from_s: 1, from_weight: 5, set: {error_rate: 0.1}}]",
        "events[0]: needs exactly one of",
    ),
    ("events: [{version: canary, from_s: 1}]", "events[0]: must do exactly one of"),
    (
        "events: [{version: canary, from_s: 1, missing: true, set: {error_rate: 0.1}}]",
        "events[0]: must do exactly one of",
    ),
    ("events: [{version: canary, from_s: 1, set: {}}]", "events[0].set: must change at least"),
    ("events: [{version: old, from_s: 1, missing: true}]", "events[0].version: must be one of"),
    ("events: [{from_s: 1, missing: true}]", "events[0].version: is required"),
    ("events: [{version: canary, from_s: 9, until_s: 3, missing: true}]", "events[0].until_s"),
    ("events: [{version: canary, from_s: 1, ramp: {error_rate: x}}]", "events[0].ramp.error_rate"),
    ("events: [{version: canary, from_s: 1, speed: 3, missing: true}]", "events[0].speed: unknown"),
]


@pytest.mark.parametrize(("line", "message"), MALFORMED)
def test_malformed_file_is_rejected_naming_file_and_field(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    expect_line = "" if line.startswith("expect") else "expect: proceed\n"
    path.write_text(expect_line + line + "\n")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value).startswith(f"bad.yaml: {message}")


def test_missing_expect_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "healthy.yaml"
    path.write_text("description: no verdict given\n")
    with pytest.raises(ScenarioError, match=r"^healthy\.yaml: expect: is required"):
        load_scenario(path)


@pytest.mark.parametrize("text", ["", "- a list\n", "key: [unclosed\n"])
def test_a_file_that_is_not_a_mapping_is_rejected_with_its_name(tmp_path: Path, text: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=r"^odd\.yaml: "):
        load_scenario(path)


def test_folder_load_stops_at_the_first_malformed_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("expect: proceed\n")
    (tmp_path / "b.yaml").write_text("expect: proceed\nrps: -1\n")
    with pytest.raises(ScenarioError, match=r"^b\.yaml: rps: "):
        load_folder(tmp_path)
