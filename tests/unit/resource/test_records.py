import json
import math

import pytest

from airollout.core.analysis.types import MetricResult, Outcome
from airollout.core.analysis.types import TestResult as CheckResult  # not a pytest class
from airollout.core.judge.records import decision_record, last_decision
from airollout.core.judge.types import Action, DecisionContext, Opinion, Verdict
from airollout.core.resource.kinds import MetricKind
from airollout.core.resource.status import AIRolloutStatus, DecisionRecord

pytestmark = pytest.mark.unit

CONTEXT = DecisionContext(
    rollout="checkout-4f2a1c",
    namespace="shop",
    revision="4f2a1c",
    slice_index=1,
    weight=25,
    window_index=3,
    elapsed_s=400.0,
)


def breached_verdict() -> Verdict:
    errors = MetricResult(
        name="error-rate",
        kind=MetricKind.ERROR_RATE,
        canary_value=0.02,
        stable_value=math.nan,
        canary_n=5000.0,
        stable_n=15000.0,
        bound=CheckResult("bound", Outcome.FAIL, 0.02, 0.005, math.inf, "0.02 is above 0.005."),
        comparison=None,
    )
    return Verdict(
        action=Action.ROLLBACK,
        reasoning="error-rate breached its bound with confidence.\nStable had no data.",
        metrics=(errors,),
        opinions=(
            Opinion("rules", Action.ROLLBACK, "bound breached"),
            Opinion(
                "llm",
                Action.PROCEED,
                "looks fine",
                model="gpt-4o",
                latency_s=1.5,
                prompt_tokens=900,
                completion_tokens=40,
            ),
        ),
        overrides=("llm said proceed past a breached bound: rollback stands",),
    )


def test_record_keeps_metrics_opinions_and_overrides_of_the_verdict() -> None:
    record = decision_record(breached_verdict(), CONTEXT, "2026-01-01T00:00:00Z", key="g1-s1-w3")

    assert (record.action, record.slice, record.weight, record.window) == ("rollback", 1, 25, 3)
    assert (record.revision, record.key) == ("4f2a1c", "g1-s1-w3")
    metric = record.metrics[0]
    assert (metric.name, metric.kind, metric.canary_value, metric.canary_n) == (
        "error-rate",
        "errorRate",
        0.02,
        5000.0,
    )
    assert metric.bound is not None
    assert (metric.bound.outcome, metric.bound.threshold) == ("fail", 0.005)
    llm = record.opinions[1]
    assert (llm.action, llm.model, llm.prompt_tokens, llm.latency_seconds) == (
        "proceed",
        "gpt-4o",
        900,
        1.5,
    )
    assert record.overrides == ["llm said proceed past a breached bound: rollback stands"]


def test_nan_and_infinity_are_written_as_missing_so_the_apiserver_accepts_the_status() -> None:
    record = decision_record(breached_verdict(), CONTEXT, "2026-01-01T00:00:00Z")
    wire = record.model_dump(mode="json", by_alias=True)

    json.dumps(wire, allow_nan=False)
    assert wire["metrics"][0]["stableValue"] is None
    assert wire["metrics"][0]["bound"]["evidence"] is None


def test_record_fits_in_status_decisions_and_reads_back() -> None:
    record = decision_record(breached_verdict(), CONTEXT, "2026-01-01T00:00:00Z")
    entry = record.model_dump(mode="json", by_alias=True)

    status = AIRolloutStatus(decisions=[entry])

    assert DecisionRecord.model_validate(status.decisions[0]) == record


def test_last_decision_is_the_action_and_first_line_cut_to_the_column_width() -> None:
    record = decision_record(breached_verdict(), CONTEXT, "2026-01-01T00:00:00Z")

    assert (
        last_decision(record) == "Rollback at 25 %: error-rate breached its bound with confidence."
    )
    short = last_decision(record, width=20)
    assert len(short) == 20
    assert short.endswith("…")
    silent = record.model_copy(update={"reasoning": "", "summary": ""})
    assert last_decision(silent) == "rollback"
