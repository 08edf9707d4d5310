"""`airollout bench promotion`: the issue's JSON, counts that add up, and the loop learning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airollout.cli.main import main
from airollout.core.promotion.signals import Signals, TestSignal, VulnerabilitySignal
from airollout.core.promotion.tiers import Decision
from airollout_tools.bench.promotion import HistoryError, load_history, run, seed_decision
from airollout_tools.bench.promotion_history import generate, write

pytestmark = pytest.mark.unit

HALF_KEYS = {
    "brier",
    "ece",
    "auto_promoted_incidents",
    "stopped_incidents",
    "incidents",
    "review_share",
}


@pytest.fixture(scope="module")
def small_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("promotion") / "history.jsonl"
    write(generate(300, seed=11), path)
    return path


def test_the_json_has_the_issues_keys_and_each_halfs_counts_add_up(
    small_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "promotion", str(small_history), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"artifacts", "policies"}
    assert document["artifacts"] == 300
    assert set(document["policies"]) == {"airollout", "seed-policy", "default-model"}
    lines = [json.loads(line) for line in small_history.read_text().splitlines()]
    halves = {"first_half": lines[:150], "second_half": lines[150:]}
    for policy in document["policies"].values():
        assert set(policy) == set(halves)
        for half, members in halves.items():
            scores = policy[half]
            assert set(scores) == HALF_KEYS
            incidents = sum(line["outcome"] == "incident" for line in members)
            assert scores["incidents"] == incidents
            assert scores["auto_promoted_incidents"] + scores["stopped_incidents"] == incidents
            assert 0.0 <= scores["review_share"] <= 1.0


def test_the_table_is_the_default_output(
    small_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "promotion", str(small_history)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:3] == ["policy", "half", "brier"]
    assert sum(line.startswith("seed-policy") for line in out.splitlines()) == 2


def test_the_learning_policy_beats_the_default_and_meets_the_targets(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.jsonl"
    write(generate(2000, seed=21), path)
    second = {name: halves[1] for name, halves in run(load_history(path)).halves.items()}
    assert second["airollout"].ece < second["default-model"].ece
    assert second["airollout"].brier < second["default-model"].brier
    # the issue's targets, on a seed the benchmark was never looked at with
    assert second["airollout"].ece <= 0.05
    seed = second["seed-policy"]
    assert second["airollout"].auto_promoted_incidents < seed.auto_promoted_incidents
    assert second["airollout"].review_share <= seed.review_share


def test_the_seed_policy_as_we_read_it() -> None:
    clean = Signals(tests=TestSignal(total=10))
    assert seed_decision(clean) is Decision.AUTO_PROMOTE
    assert seed_decision(Signals(coverage_delta=-1.5)) is Decision.MANUAL_REVIEW
    assert seed_decision(Signals(vulnerabilities=VulnerabilitySignal(critical=1))) is (
        Decision.BLOCK
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", ":1: not JSON"),
        ('{"id": "a", "service": "s", "time": "2026-01-05T10:00:00Z"}', ":1: outcome: must be"),
        (
            '{"id": "a", "service": "s", "time": "yesterday", "outcome": "healthy"}',
            ":1: time: not an ISO 8601 time",
        ),
        (
            '{"id": "a", "service": "s", "time": "2026-01-05T10:00:00Z", "outcome": "healthy",'
            ' "signals": {"tests": {"failed": -2}}}',
            ":1: signals.tests.failed: must be an integer >= 0",
        ),
    ],
)
def test_a_bad_history_line_is_named_by_file_line_and_field(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(HistoryError) as error:
        load_history(path)
    assert str(error.value) == f"{path}{message}" or str(error.value).startswith(f"{path}{message}")


def test_the_generator_is_reproducible_and_the_cli_writes_it(tmp_path: Path) -> None:
    assert generate(50, seed=4) == generate(50, seed=4)
    assert generate(50, seed=4) != generate(50, seed=5)
    out = tmp_path / "h.jsonl"
    assert main(["bench", "promotion-history", "--artifacts", "40", "--out", str(out)]) == 0
    assert len(load_history(out)) == 40
