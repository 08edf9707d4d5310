"""Small constructors of metric results and verdicts for the judge tests."""

from __future__ import annotations

from airollout.core.analysis.types import MetricResult, Outcome, TestResult
from airollout.core.judge.types import Action, DecisionContext, Opinion, Verdict
from airollout.core.resource.kinds import MetricKind


def check(outcome: Outcome, *, threshold: float | None = 0.005, test: str = "bound") -> TestResult:
    return TestResult(
        test=test,
        outcome=outcome,
        statistic=None,
        threshold=threshold,
        evidence=None,
        message=f"{test} {outcome.value}",
    )


def metric(
    name: str = "error-rate",
    *,
    bound: Outcome | None = Outcome.PASS,
    comparison: Outcome | None = Outcome.PASS,
    canary: float | None = 0.001,
    stable: float | None = 0.001,
    threshold: float = 0.005,
    stable_bound: Outcome | None = None,
) -> MetricResult:
    return MetricResult(
        name=name,
        kind=MetricKind.ERROR_RATE,
        canary_value=canary,
        stable_value=stable,
        canary_n=5000.0,
        stable_n=45000.0,
        bound=None if bound is None else check(bound, threshold=threshold),
        comparison=None if comparison is None else check(comparison, test="msprt-rate-ratio"),
        stable_bound=None if stable_bound is None else check(stable_bound, threshold=threshold),
    )


def breach(name: str = "error-rate", *, shared: bool = False) -> MetricResult:
    """A canary beyond the max bound; `shared`: stable is beyond it too and canary no worse."""
    return metric(
        name,
        bound=Outcome.FAIL,
        comparison=Outcome.PASS if shared else Outcome.FAIL,
        canary=0.02,
        stable=0.03 if shared else 0.001,
        stable_bound=Outcome.FAIL if shared else Outcome.PASS,
    )


def rules_verdict(action: Action, *metrics: MetricResult) -> Verdict:
    return Verdict(
        action=action,
        reasoning=f"rules said {action.value}",
        metrics=tuple(metrics) if metrics else (metric(),),
        opinions=(Opinion(judge="rules", action=action, reasoning="rules"),),
    )


def llm_opinion(action: Action | None, error: str | None = None) -> Opinion:
    return Opinion(
        judge="llm",
        action=action,
        reasoning="" if action is None else f"llm thinks {action.value}",
        model="fake-model",
        error=error if action is None else None,
    )


def context(**labels: str) -> DecisionContext:
    return DecisionContext(
        rollout="checkout-4f2a1c",
        namespace="shop",
        revision="4f2a1c",
        slice_index=1,
        weight=25,
        window_index=2,
        elapsed_s=360.0,
        labels=labels,
    )
