"""`airollout promotion score --llm-endpoint`: the narrative from a real openai client talking
to a scripted OpenAI-compatible server; it may lower the score, never raise it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from airollout.cli.main import main
from tests.support.fake_openai import FakeOpenAI, Reply, completion, error, running_fake

pytestmark = pytest.mark.unit
DATA = Path(__file__).parents[1] / "reports" / "data"
CLEAN = [
    "--junit", str(DATA / "junit_pytest.xml"),
    "--sbom", str(DATA / "sbom_build.cdx.json"),
    "--baseline-sbom", str(DATA / "sbom_baseline.cdx.json"),
    "--change-lines", "30", "--risk-tier", "low",
]  # fmt: skip


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    yield from running_fake()


def _answer(**fields: object) -> Reply:
    return completion(json.dumps(fields))


def _run(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, object]]:
    argv = ["promotion", "score", *CLEAN, "--llm-endpoint", fake.base_url]
    code = main([*argv, "--llm-model", "fake-model", "--llm-timeout", "2", *extra, "--json"])
    return code, json.loads(capsys.readouterr().out)


def _model_score(capsys: pytest.CaptureFixture[str]) -> float:
    main(["promotion", "score", *CLEAN, "--json"])
    score = json.loads(capsys.readouterr().out)["score"]
    assert isinstance(score, float)
    return score


def test_a_cap_below_the_score_lowers_it_and_the_tier_follows(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _model_score(capsys)
    assert before >= 0.92
    narrative = "The licence change to SSPL needs legal review."
    fake.script(_answer(narrative=narrative, recommendations=["Ask legal"], max_score=0.8))
    code, report = _run(fake, capsys)
    assert report["score"] == 0.8
    assert report["model_score"] == before
    assert report["decision"] == "manual-review"
    assert report["llm"] == f"lowered the score from {before:.3f} to 0.800"
    assert code == 0
    sent = fake.requests[0]
    assert "response_format" not in sent.body  # plain JSON: the verdict schema does not fit
    assert "licence_changes" in sent.message_text()  # the model saw the signals


def test_a_cap_above_the_score_does_not_raise_it(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.script(_answer(narrative="All clear.", recommendations=[], max_score=1.0))
    before = _model_score(capsys)
    _, report = _run(fake, capsys, "--thresholds", "0.99,0.5")
    assert report["score"] == before
    assert report["decision"] == "manual-review"
    assert "model_score" not in report
    assert "never raise" in str(report["llm"])


def test_the_narrative_and_recommendations_reach_the_step_summary(
    fake: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    fake.script(_answer(narrative="Small change, clean tests.", recommendations=["Ship it"]))
    argv = ["promotion", "score", *CLEAN, "--llm-endpoint", fake.base_url]
    assert main([*argv, "--llm-model", "m", "--github"]) == 0
    assert "Small change, clean tests." in capsys.readouterr().out
    assert "Recommendations:\n- Ship it" in summary.read_text()


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (completion("I think it is fine."), "no JSON object"),
        (completion(json.dumps({"narrative": "x", "max_score": 7})), "max_score"),
        (completion(json.dumps({"narrative": "x", "verdict": "ok"})), "verdict"),
        (error(401, message="bad key"), "HTTP 401"),
        (Reply(delay_s=5.0), "timed out"),
    ],
)
def test_a_late_or_invalid_answer_leaves_the_score_and_says_why(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], reply: Reply, reason: str
) -> None:
    fake.script(reply, reply)
    before = _model_score(capsys)
    code, report = _run(fake, capsys, "--llm-timeout", "0.5")
    assert (code, report["score"], report["decision"]) == (0, before, "auto-promote")
    assert str(report["llm"]).startswith("no usable answer (")
    assert reason in str(report["llm"])
    assert str(report["llm"]).endswith("the score stands")


def test_an_endpoint_without_a_model_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["promotion", "score", *CLEAN, "--llm-endpoint", "http://127.0.0.1:9/v1"]
    assert main(argv) == 2
    assert "--llm-endpoint and --llm-model: give both" in capsys.readouterr().err
