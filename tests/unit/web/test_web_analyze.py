"""The endpoint's verdicts come from the real rules judge, with evidence carried over."""

from __future__ import annotations

import pytest

from airollout.core.analysis.types import Version
from airollout.web.evidence import EvidenceConflictError
from airollout.web.request import parse_request
from tests.unit.web.web_fakes import T0, RecordingJudge, Source, Store, body, service

pytestmark = pytest.mark.unit


def test_a_canary_far_above_its_bound_is_a_rollback_that_says_why() -> None:
    analysis, _, log, _ = service(Source(canary=(10_000.0, 3_000.0)))
    answer = analysis.analyze(parse_request(body()))
    assert answer.decision == "rollback"
    assert answer.summary.startswith("Rollback: ")
    assert "bound" in answer.summary
    assert answer.metrics[0]["name"] == "errors"
    assert answer.metrics[0]["canaryValue"] == pytest.approx(0.3)
    ((_, _, record),) = log.records
    assert record.action == "rollback"


def test_a_healthy_canary_proceeds() -> None:
    analysis, *_ = service(Source(canary=(100_000.0, 100.0)))
    assert analysis.analyze(parse_request(body())).decision == "proceed"


def test_no_canary_data_holds_and_the_answer_says_what_is_missing() -> None:
    analysis, *_ = service(Source(canary=None))
    answer = analysis.analyze(parse_request(body()))
    assert answer.decision == "hold"
    assert "Metric 'errors' for canary: empty." in answer.reasoning


def test_queries_get_each_versions_pod_template_hash() -> None:
    source = Source(canary=(100_000.0, 100.0))
    analysis, *_ = service(source)
    analysis.analyze(parse_request(body()))
    (query,) = source.queries
    assert query.pod_template_hashes == {
        Version.CANARY: "6f9c7d8b5",
        Version.STABLE: "57d4b9c8f",
    }
    assert query.workloads == {Version.CANARY: "web", Version.STABLE: "web"}


def test_the_evidence_and_the_window_carry_over_from_call_to_call() -> None:
    source, judge = Source(canary=(100_000.0, 100.0)), RecordingJudge()
    analysis, store, log, clock = service(source, judge=judge)
    request = parse_request(body())
    first = analysis.analyze(request)
    saved_after_first = store.load("shop", "web", "6f9c7d8b5")
    assert saved_after_first is not None
    clock.advance(45)
    second = analysis.analyze(request)
    assert (first.window, second.window) == (1, 2)
    # The first window looks one interval back; the next starts where the last one ended.
    assert source.queries[0].end == T0
    assert (source.queries[0].end - source.queries[0].start).total_seconds() == 30.0
    assert source.queries[1].start == source.queries[0].end
    assert (source.queries[1].end - source.queries[1].start).total_seconds() == 45.0
    assert judge.states[1] == saved_after_first.state
    assert judge.states[1] != judge.states[0]  # the first window added evidence
    assert [key for _, key, _ in log.records] == ["w1", "w2"]


def test_another_canary_hash_starts_its_own_evidence() -> None:
    analysis, store, _, _ = service(Source(canary=(100_000.0, 100.0)))
    analysis.analyze(parse_request(body()))
    answer = analysis.analyze(parse_request(body(canaryHash="7a7a7a7a7")))
    assert answer.window == 1
    assert len(store.saved) == 2


def test_a_call_that_loses_the_race_for_a_window_judges_nothing_into_the_log() -> None:
    class Racing(Store):
        def save(self, namespace, rollout, canary_hash, evidence):  # type: ignore[no-untyped-def]
            raise EvidenceConflictError("changed meanwhile")

    analysis, _, log, _ = service(Source(canary=(100_000.0, 100.0)), store=Racing())
    with pytest.raises(EvidenceConflictError):
        analysis.analyze(parse_request(body()))
    assert log.records == []


def test_the_decision_log_is_keyed_apart_from_airollouts() -> None:
    analysis, _, log, _ = service(Source(canary=(100_000.0, 100.0)))
    analysis.analyze(parse_request(body()))
    ((ref, _, record),) = log.records
    assert (ref.namespace, ref.name, ref.uid) == ("shop", "argo.web", "6f9c7d8b5")
    assert record.revision == "6f9c7d8b5"
