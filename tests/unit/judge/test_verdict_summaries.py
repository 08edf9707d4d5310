"""Every verdict opens with one line a person can read: the decision and its main reason,
in the spec's units (percent, milliseconds), with no stand-in values."""

from __future__ import annotations

import math
import re

import pytest

from airollout.core.analysis.histogram import quantile
from airollout.core.analysis.types import (
    AnalysisSettings,
    Histogram,
    MetricCheck,
    Observation,
    Sample,
)
from airollout.core.judge.policy import JudgeMode, combine
from airollout.core.judge.rules import RulesJudge
from airollout.core.judge.types import (
    Action,
    DecisionContext,
    Opinion,
    Verdict,
    summary_line,
    summary_of,
)
from airollout.core.resource.kinds import MetricKind

pytestmark = pytest.mark.unit

# Seconds, as a Prometheus histogram (`..._seconds_bucket`) and so the spec give them.
EDGES = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0, math.inf)
ERRORS = MetricCheck("error-rate", MetricKind.ERROR_RATE, max=0.005)
LATENCY = MetricCheck("p99-latency", MetricKind.LATENCY, max=0.3, quantile=0.99)
CPU = MetricCheck("cpu", MetricKind.GAUGE, max=0.8)


def settings(*checks: MetricCheck) -> AnalysisSettings:
    return AnalysisSettings(metrics=checks, warmup_s=0.0)


def traffic(requests: float, errors: float, slow_share: float = 0.0) -> dict[str, Sample]:
    """A version's samples for ERRORS and LATENCY; `slow_share` of requests above 0.5 s."""
    slow = round(requests * slow_share)
    fast = requests - slow
    counts = (0.0, fast * 0.6, fast * 0.39, fast * 0.01, 0.0, float(slow), 0.0)
    return {
        ERRORS.name: Sample(requests=requests, errors=errors),
        LATENCY.name: Sample(requests=requests, histogram=Histogram(EDGES, counts)),
    }


def window(canary: dict[str, Sample], stable: dict[str, Sample]) -> list[Observation]:
    return [Observation(start_s=30.0, duration_s=60.0, canary=canary, stable=stable)]


def decide(
    analysis: AnalysisSettings, observations: list[Observation], weight: int = 10
) -> tuple[Verdict, str]:
    context = DecisionContext("web-v2", "shop", "v2", 0, weight, 1, 60.0)
    judge = RulesJudge()
    verdict, _ = judge.decide(analysis, judge.initial_state(analysis), context, observations)
    return verdict, summary_line(verdict, weight)


def test_an_error_rate_breach_reads_in_percent_with_its_counts() -> None:
    verdict, line = decide(settings(ERRORS), window(traffic(290, 15), traffic(2610, 3)))

    assert verdict.action is Action.ROLLBACK
    assert line == (
        "Rollback at 10 %: canary error rate 5.2 % (15 of 290 requests) is above the 0.5 % bound."
    )


def test_a_proceed_names_every_bound_it_passed_latency_in_milliseconds() -> None:
    canary = traffic(990, 1)
    verdict, line = decide(settings(ERRORS, LATENCY), window(canary, traffic(2970, 3)), weight=25)

    assert verdict.action is Action.PROCEED
    histogram = canary[LATENCY.name].histogram
    assert histogram is not None
    p99 = quantile(histogram, 0.99)
    assert p99 is not None
    assert line == (
        "Proceed at 25 %: error rate 0.1 % (1 of 990) is within the 0.5 % bound and "
        f"p99 {p99 * 1000:.0f} ms is within 300 ms."
    )


def test_too_little_traffic_is_a_hold_that_says_what_it_waits_for() -> None:
    verdict, line = decide(settings(ERRORS), window(traffic(40, 0), traffic(360, 0)))

    assert verdict.action is Action.HOLD
    assert line == (
        "Hold at 10 %: not enough canary traffic yet to show error rate within 0.5 % "
        "(0 of 40 requests)."
    )


def test_a_latency_breach_gives_the_canary_p99_and_the_share_of_slow_requests() -> None:
    verdict, line = decide(
        settings(LATENCY), window(traffic(400, 0, slow_share=0.2), traffic(3600, 0))
    )

    assert verdict.action is Action.ROLLBACK
    assert re.fullmatch(
        r"Rollback at 10 %: canary p99 latency \d+ ms is above the 300 ms bound "
        r"\(20 % of 400 requests slower, 1 % allowed\)\.",
        line,
    ), line


def test_a_relative_regression_says_how_many_times_stable_it_is() -> None:
    verdict, line = decide(
        settings(ERRORS), window(traffic(100_000, 350), traffic(100_000, 100)), weight=50
    )

    assert verdict.action is Action.ROLLBACK
    assert line == "Rollback at 50 %: canary error rate is worse: 3.5 times stable's so far."


def test_missing_canary_data_is_named_once_for_every_metric_without_it() -> None:
    verdict, line = decide(settings(ERRORS, LATENCY), window({}, traffic(3600, 3)))

    assert verdict.action is Action.HOLD
    assert line == "Hold at 10 %: no canary data for error-rate and p99-latency in this window."


def test_a_shared_cause_is_a_hold_with_both_versions_rates() -> None:
    verdict, line = decide(settings(ERRORS), window(traffic(400, 20), traffic(3600, 180)))

    assert verdict.action is Action.HOLD
    assert line == (
        "Hold at 10 %: canary and stable both breach the 0.5 % error rate bound "
        "(canary 5 %, stable 5 %), a shared cause that a rollback would not fix."
    )


def gauge_window(*readings: float) -> list[Observation]:
    return [
        Observation(
            start_s=30.0 + i,
            duration_s=1.0,
            canary={CPU.name: Sample(value=value)},
            stable={CPU.name: Sample(value=0.4)},
        )
        for i, value in enumerate(readings)
    ]


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        (
            (0.9, 0.95, 0.92),
            "Rollback at 10 %: canary cpu averaged 0.9233, beyond 0.8 for 3 readings in a row.",
        ),
        ((0.4, 0.5, 0.45), "Proceed at 10 %: cpu 0.45 is within its maximum 0.8."),
        ((0.4, 0.5), "Hold at 10 %: too few cpu readings yet to judge (2)."),
    ],
    ids=["breach", "within", "too-few"],
)
def test_a_gauge_summary_gives_its_mean_and_bound(
    readings: tuple[float, ...], expected: str
) -> None:
    _, line = decide(settings(CPU), gauge_window(*readings))

    assert line == expected


def test_two_metrics_of_one_kind_are_told_apart_by_name() -> None:
    checkout = MetricCheck("checkout-errors", MetricKind.ERROR_RATE, max=0.005)
    samples = traffic(290, 15)[ERRORS.name]
    observations = window(
        {ERRORS.name: samples, checkout.name: samples},
        {ERRORS.name: Sample(2610, 3), checkout.name: Sample(2610, 3)},
    )
    _, line = decide(settings(ERRORS, checkout), observations)

    assert line == (
        "Rollback at 10 %: canary error-rate 5.2 % (15 of 290 requests) is above the 0.5 % bound "
        "and canary checkout-errors 5.2 % (15 of 290 requests) is above the 0.5 % bound."
    )


def test_an_llm_caused_hold_says_so_and_keeps_what_the_rules_found() -> None:
    rules, _ = decide(settings(ERRORS), window(traffic(9900, 10), traffic(89100, 89)))
    assert rules.action is Action.PROCEED
    llm = Opinion(judge="llm", action=Action.ROLLBACK, reasoning="looks odd", model="m1")

    verdict = combine(JudgeMode.HYBRID, rules, llm)

    assert verdict.action is Action.HOLD
    assert summary_line(verdict, 10) == (
        "Hold at 10 %: the LLM judge (m1) asked for a rollback, held for a person; the rules "
        f"said proceed ({summary_of(rules)})."
    )


def test_a_judge_without_a_summary_falls_back_to_its_first_sentence() -> None:
    verdict = Verdict(Action.HOLD, "argo-threshold: 2 failed checks. More below.", (), ())

    assert summary_line(verdict, 25) == "Hold at 25 %: argo-threshold: 2 failed checks."
