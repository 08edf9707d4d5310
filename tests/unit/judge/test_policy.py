from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airollout.core.analysis.types import MetricResult, Outcome
from airollout.core.judge.policy import JudgeMode, combine, safety_floor, stable_breaches_too
from airollout.core.judge.types import Action, Opinion, Verdict
from tests.support.verdict_builders import breach, llm_opinion, metric, rules_verdict

pytestmark = pytest.mark.unit

P, H, R = Action.PROCEED, Action.HOLD, Action.ROLLBACK


@pytest.mark.parametrize(
    ("rules", "llm", "expected"),
    [
        (P, P, P),
        (P, H, H),
        (P, R, H),  # an LLM-only rollback waits for a person instead
        (H, P, H),
        (H, H, H),
        (H, R, H),
        (R, P, R),
        (R, H, R),
        (R, R, R),
    ],
)
def test_hybrid_lets_the_llm_only_add_caution_up_to_hold(
    rules: Action, llm: Action, expected: Action
) -> None:
    verdict = combine(JudgeMode.HYBRID, rules_verdict(rules), llm_opinion(llm))
    assert verdict.action is expected


def test_hybrid_llm_rollback_against_rules_proceed_is_recorded_as_hold_for_a_person() -> None:
    verdict = combine(JudgeMode.HYBRID, rules_verdict(P), llm_opinion(R))
    assert any("becomes hold for a person" in text for text in verdict.overrides)


def test_hybrid_records_that_the_llm_could_not_relax_a_rules_hold() -> None:
    verdict = combine(JudgeMode.HYBRID, rules_verdict(H), llm_opinion(P))
    assert any("may not relax the rules hold" in text for text in verdict.overrides)


def test_agreeing_judges_leave_no_override() -> None:
    verdict = combine(JudgeMode.HYBRID, rules_verdict(P), llm_opinion(P))
    assert verdict.overrides == ()
    assert "llm thinks proceed" in verdict.reasoning


@pytest.mark.parametrize("mode", [JudgeMode.HYBRID, JudgeMode.LLM])
@pytest.mark.parametrize("rules", [P, H, R])
def test_missing_llm_answer_leaves_the_rules_verdict_and_says_why(
    mode: JudgeMode, rules: Action
) -> None:
    opinion = llm_opinion(None, error="timed out after 20.0s")
    verdict = combine(mode, rules_verdict(rules), opinion)
    assert verdict.action is rules
    assert verdict.overrides == (
        "invariant 3: LLM answer ignored (timed out after 20.0s); rules decision stands",
    )
    assert verdict.opinions[-1] is opinion


def test_rules_mode_records_but_ignores_an_llm_opinion() -> None:
    opinion = llm_opinion(R)
    verdict = combine(JudgeMode.RULES, rules_verdict(P), opinion)
    assert verdict.action is P
    assert opinion in verdict.opinions


def test_llm_mode_uses_an_llm_rollback_over_a_rules_proceed() -> None:
    verdict = combine(JudgeMode.LLM, rules_verdict(P), llm_opinion(R))
    assert verdict.action is R
    assert verdict.overrides == ("llm mode: LLM rollback used over the rules proceed",)


def test_llm_mode_uses_an_llm_proceed_when_every_metric_passes() -> None:
    verdict = combine(JudgeMode.LLM, rules_verdict(H, metric()), llm_opinion(P))
    assert verdict.action is P


@pytest.mark.parametrize("unsettled", [Outcome.NOT_YET, Outcome.FAIL])
def test_llm_mode_refuses_an_llm_proceed_on_unsettled_comparison(unsettled: Outcome) -> None:
    rules = rules_verdict(H, metric("latency", comparison=unsettled))
    verdict = combine(JudgeMode.LLM, rules, llm_opinion(P))
    assert verdict.action is H
    assert any("LLM proceed refused" in text and "latency" in text for text in verdict.overrides)


def test_llm_mode_keeps_a_comparison_rollback_when_the_llm_says_proceed() -> None:
    rules = rules_verdict(R, metric("latency", comparison=Outcome.FAIL))
    assert combine(JudgeMode.LLM, rules, llm_opinion(P)).action is R


def test_llm_mode_may_soften_a_comparison_rollback_to_hold_and_says_so() -> None:
    rules = rules_verdict(R, metric("latency", comparison=Outcome.FAIL))
    verdict = combine(JudgeMode.LLM, rules, llm_opinion(H))
    assert verdict.action is H
    assert verdict.overrides == ("llm mode: LLM hold used over the rules rollback",)


@pytest.mark.parametrize("mode", list(JudgeMode))
@pytest.mark.parametrize("llm", [P, H])
def test_own_bound_breach_is_rollback_whatever_the_llm_says(mode: JudgeMode, llm: Action) -> None:
    verdict = combine(mode, rules_verdict(R, breach()), llm_opinion(llm))
    assert verdict.action is R


def test_bound_breach_overrides_a_rules_proceed_and_names_the_metric() -> None:
    verdict = combine(JudgeMode.HYBRID, rules_verdict(P, breach("p99-latency")), llm_opinion(P))
    assert verdict.action is R
    assert verdict.overrides == (
        "invariant 1: the canary breaches the hard bound of p99-latency: "
        "proceed raised to rollback",
    )


@pytest.mark.parametrize("mode", list(JudgeMode))
def test_shared_cause_breach_is_hold_not_proceed(mode: JudgeMode) -> None:
    verdict = combine(mode, rules_verdict(P, breach(shared=True)), llm_opinion(P))
    assert verdict.action is H
    assert "shared cause" in verdict.overrides[-1]


def test_shared_cause_needs_a_stable_breach_and_a_canary_not_shown_worse() -> None:
    shared = metric(bound=Outcome.FAIL, stable_bound=Outcome.FAIL, comparison=Outcome.PASS)
    untested = metric(bound=Outcome.FAIL, stable_bound=Outcome.FAIL, comparison=None)
    canary_worse = metric(bound=Outcome.FAIL, stable_bound=Outcome.FAIL, comparison=Outcome.FAIL)
    stable_unknown = metric(bound=Outcome.FAIL, stable_bound=Outcome.NO_DATA)
    assert stable_breaches_too(shared)
    assert stable_breaches_too(untested)
    assert not stable_breaches_too(canary_worse)
    assert not stable_breaches_too(stable_unknown)


def test_stable_without_data_does_not_block_a_proceed() -> None:
    # At the last slice stable carries no traffic; the canary's own bound still vouches.
    last_slice = metric(stable=None, stable_bound=Outcome.NO_DATA, comparison=Outcome.NOT_YET)
    verdict = combine(JudgeMode.HYBRID, rules_verdict(P, last_slice), llm_opinion(P))
    assert verdict.action is P


@pytest.mark.parametrize(
    "missing",
    [
        metric(canary=math.nan),
        metric(canary=None),
        metric(bound=Outcome.NO_DATA),
        metric(bound=None, comparison=Outcome.NO_DATA),
    ],
)
@pytest.mark.parametrize("mode", list(JudgeMode))
def test_no_data_never_becomes_proceed(missing: MetricResult, mode: JudgeMode) -> None:
    verdict = combine(mode, rules_verdict(P, metric("ok"), missing), llm_opinion(P))
    assert verdict.action is H
    assert "invariant 2: no usable data for error-rate" in verdict.overrides[-1]


def test_no_metric_results_at_all_is_no_data() -> None:
    empty = Verdict(action=P, reasoning="", metrics=(), opinions=())
    floor = safety_floor(empty.metrics)
    assert floor is not None
    assert floor.action is H


# --- properties over any rules verdict and any LLM opinion -------------------------------

outcomes = st.sampled_from(list(Outcome)) | st.none()
values = st.floats(allow_nan=True, allow_infinity=True) | st.none()


@st.composite
def metric_results(draw: st.DrawFn) -> MetricResult:
    return metric(
        draw(st.sampled_from(["error-rate", "latency", "saturation"])),
        bound=draw(outcomes),
        comparison=draw(outcomes),
        canary=draw(values),
        stable=draw(values),
        threshold=draw(st.floats(allow_nan=False, allow_infinity=False)),
        stable_bound=draw(outcomes),
    )


actions = st.sampled_from(list(Action))
opinions = st.builds(llm_opinion, actions | st.none(), st.just("schema")) | st.none()
modes = st.sampled_from(list(JudgeMode))


def _no_data(m: MetricResult) -> bool:
    """Canary data missing by any reading the analysis may give (independent of the policy)."""
    if m.canary_value is None or math.isnan(m.canary_value):
        return True
    vouching = m.bound if m.bound is not None else m.comparison
    return vouching is not None and vouching.outcome is Outcome.NO_DATA


@settings(max_examples=300, deadline=None)
@given(modes, actions, st.lists(metric_results(), max_size=4), opinions)
def test_a_canary_only_bound_breach_always_ends_in_rollback(
    mode: JudgeMode, action: Action, results: list[MetricResult], llm: Opinion | None
) -> None:
    results.append(breach(shared=False))
    verdict = combine(mode, rules_verdict(action, *results), llm)
    assert verdict.action is R


@settings(max_examples=300, deadline=None)
@given(modes, actions, st.lists(metric_results(), max_size=4), opinions)
def test_breach_or_missing_data_never_ends_in_proceed(
    mode: JudgeMode, action: Action, results: list[MetricResult], llm: Opinion | None
) -> None:
    verdict = combine(mode, rules_verdict(action, *results), llm)
    unsafe = any(
        _no_data(m) or (m.bound is not None and m.bound.outcome is Outcome.FAIL) for m in results
    )
    if unsafe:
        assert verdict.action is not P


@settings(max_examples=300, deadline=None)
@given(actions, st.lists(metric_results(), min_size=1, max_size=4), opinions)
def test_hybrid_is_never_less_cautious_than_rules_and_never_an_llm_only_rollback(
    action: Action, results: list[MetricResult], llm: Opinion | None
) -> None:
    verdict = combine(JudgeMode.HYBRID, rules_verdict(action, *results), llm)
    caution = [P, H, R]
    assert caution.index(verdict.action) >= caution.index(action)
    if verdict.action is R and action is not R:
        assert verdict.overrides[-1].startswith("invariant 1")


@settings(max_examples=300, deadline=None)
@given(modes, actions, st.lists(metric_results(), max_size=4), opinions)
def test_every_change_to_the_rules_action_is_written_down(
    mode: JudgeMode, action: Action, results: list[MetricResult], llm: Opinion | None
) -> None:
    verdict = combine(mode, rules_verdict(action, *results), llm)
    if verdict.action is not action:
        assert verdict.overrides
        assert verdict.action.value in verdict.overrides[-1]
