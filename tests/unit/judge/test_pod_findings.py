"""The canary's pods weigh in beside its metrics: crashes roll back, restarts and
not-ready pods hold, and a failure stable shares is a hold."""

from __future__ import annotations

import dataclasses

import pytest

from airollout.core.analysis.evaluate import initial_state
from airollout.core.analysis.pods import PodHealth
from airollout.core.analysis.types import AnalysisSettings, MetricCheck, Observation, Sample
from airollout.core.judge.pods import pod_action
from airollout.core.judge.rules import RulesJudge
from airollout.core.judge.types import Action, DecisionContext, summary_of
from airollout.core.resource.kinds import MetricKind

pytestmark = pytest.mark.unit

HEALTHY = PodHealth(pods=3, ready=3, restarts=0, crash_looping=0, oom_killed=0)
CRASHING = PodHealth(pods=3, ready=2, restarts=4, crash_looping=1, oom_killed=0)
SETTINGS = AnalysisSettings(
    metrics=(MetricCheck("errors", MetricKind.ERROR_RATE, max=0.05, compare_baseline=False),),
    warmup_s=0.0,
)
CONTEXT = DecisionContext("web", "shop", "v2", 0, 10, 1, 60.0, promotes=False)


def _verdict(pods: tuple[PodHealth | None, PodHealth | None]) -> object:
    healthy = {"errors": Sample(requests=5000.0, errors=0.0)}
    window = [Observation(5.0 * i, 5.0, healthy, healthy) for i in range(12)]
    context = dataclasses.replace(CONTEXT, pods=pods)
    verdict, _ = RulesJudge().decide(SETTINGS, initial_state(), context, window)
    return verdict


@pytest.mark.parametrize(
    ("canary", "stable", "action"),
    [
        (CRASHING, HEALTHY, Action.ROLLBACK),
        (dataclasses.replace(HEALTHY, oom_killed=1), HEALTHY, Action.ROLLBACK),
        (CRASHING, CRASHING, Action.HOLD),  # a shared cause
        (dataclasses.replace(HEALTHY, restarts=2), HEALTHY, Action.HOLD),
        (dataclasses.replace(HEALTHY, ready=1), HEALTHY, Action.HOLD),
    ],
)
def test_what_the_pods_call_for(canary: PodHealth, stable: PodHealth, action: Action) -> None:
    called = pod_action(canary, stable)
    assert called is not None
    assert called[0] is action


def test_healthy_or_unread_pods_call_for_nothing() -> None:
    assert pod_action(HEALTHY, HEALTHY) is None
    assert pod_action(None, HEALTHY) is None
    # Stable's pods restart as often: the canary's restarts are no sign of its own.
    restarting = dataclasses.replace(HEALTHY, restarts=3)
    assert pod_action(restarting, restarting) is None


def test_crash_looping_canary_pods_roll_back_despite_healthy_metrics() -> None:
    verdict = _verdict((CRASHING, HEALTHY))
    assert verdict.action is Action.ROLLBACK
    assert "CrashLoopBackOff" in verdict.reasoning
    assert summary_of(verdict) == "1 of 3 canary pods in CrashLoopBackOff, 0 OOMKilled"


def test_without_pod_readings_the_metrics_alone_decide() -> None:
    unread, healthy = _verdict((None, None)), _verdict((HEALTHY, HEALTHY))
    assert unread.action is healthy.action is Action.PROCEED
    assert summary_of(unread) == summary_of(healthy)
