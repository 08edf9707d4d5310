"""Argo Rollouts' analysis as a careful user configures it: relative to stable, traffic-guarded.

The same run semantics as `argo_threshold` (argoproj/argo-rollouts `utils/evaluate` and
`analysis/analysis.go`, https://argoproj.github.io/argo-rollouts/features/analysis/), with
the AnalysisTemplate a user writes after reading those docs and the users' reports that a
bound alone misses relative regressions and fails on empty low-traffic windows:

- each metric's query returns `[canary, stable]` over the interval, and returns nothing
  when the canary served fewer than MIN_CANARY_REQUESTS requests in it (a traffic guard,
  `... and on() sum(increase(requests_total{canary}[1m])) >= 200`): the empty result is an
  Error measurement, so the step waits instead of failing on a handful of requests;
- `successCondition: result[0] <= bound` (the absolute bound, as before);
- `failureCondition: result[0] > RATIO * result[1] + SLACK` (worse than stable: twice
  stable's error rate, or 1.25 x stable's p99, plus a slack of a share of the bound that
  keeps one or two unlucky requests from failing a healthy canary);
- the failure condition wins; neither condition true is Inconclusive, and with
  `inconclusiveLimit: 0` (the default) the run ends Inconclusive and the rollout pauses
  until a person acts: here a hold for the rest of the scenario. That is what a shared
  outage gives: canary beyond the bound but no worse than stable;
- `failureLimit: 1` per metric (the docs' examples set one above 0): a per-interval ratio
  on a few hundred canary requests fails now and then on a healthy canary, and a second
  failed measurement of the same metric aborts; `consecutiveErrorLimit: 4`, the default.

While the canary takes all traffic (the 100 % slice) the stable series is empty; the last
stable value seen stands in, as the user's recording rule over the stable pods would keep.
The settings were chosen on the shared scenario set (`../shared/scenarios`) before any
other set was run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airollout.core.analysis.types import AnalysisSettings, MetricCheck, Observation, Version
from airollout.core.judge.types import Action, DecisionContext, Verdict
from airollout.core.resource.kinds import MetricKind
from airollout_tools.bench.baselines.argo_threshold import DEFAULT_CONSECUTIVE_ERROR_LIMIT
from airollout_tools.bench.baselines.measure import (
    bound_of,
    bounded,
    window_requests,
    window_value,
    within_bounds,
)
from airollout_tools.bench.baselines.verdicts import baseline_verdict, show_value, worst_action

MIN_CANARY_REQUESTS = 200.0
FAILURE_LIMIT = 1
# failureCondition: result[0] > ratio * result[1] + slack share * bound
RELATIVE_RATIO = {MetricKind.ERROR_RATE: 2.0, MetricKind.LATENCY: 1.25}
SLACK_SHARE = {MetricKind.ERROR_RATE: 0.2, MetricKind.LATENCY: 0.1}


def relative_limit(check: MetricCheck, stable: float) -> float:
    """The value above which the failureCondition holds: worse than stable by the margin."""
    ratio = RELATIVE_RATIO.get(check.kind, 1.0)
    return ratio * stable + SLACK_SHARE.get(check.kind, 0.0) * bound_of(check)


def measurement(check: MetricCheck, canary: float | None, stable: float | None) -> str:
    """Argo's measurement phase for `[canary, stable]`; None is an empty or guarded result."""
    if canary is None or stable is None:
        return "Error"
    if canary > relative_limit(check, stable):
        return "Failed"
    return "Successful" if within_bounds(check, canary) else "Inconclusive"


class ArgoTunedJudge:
    name = "argo-tuned"

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return {"failed": {}, "inconclusive": False, "consecutive_errors": {}, "stable": {}}

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        failed, inconclusive = dict(state["failed"]), bool(state["inconclusive"])
        errors, last_stable = dict(state["consecutive_errors"]), dict(state["stable"])
        actions, notes = [], []
        for check in bounded(settings):
            canary = self._guarded_canary(check, window, settings.warmup_s)
            stable = window_value(check, window, settings.warmup_s, Version.STABLE)
            stable = last_stable.get(check.name) if stable is None else stable
            if stable is not None:
                last_stable[check.name] = stable
            measured = measurement(check, canary, stable)
            failed[check.name] = failed.get(check.name, 0) + (measured == "Failed")
            inconclusive = inconclusive or measured == "Inconclusive"
            errors[check.name] = errors.get(check.name, 0) + 1 if measured == "Error" else 0
            actions.append(self._run_action(failed[check.name], inconclusive, errors[check.name]))
            notes.append(f"{check.name}={show_value(canary)} vs {show_value(stable)} {measured}")
        new_state = {
            "failed": failed,
            "inconclusive": inconclusive,
            "consecutive_errors": errors,
            "stable": last_stable,
        }
        return baseline_verdict(self.name, worst_action(actions), notes), new_state

    @staticmethod
    def _guarded_canary(
        check: MetricCheck, window: Sequence[Observation], warmup_s: float
    ) -> float | None:
        if window_requests(check, window, warmup_s, Version.CANARY) < MIN_CANARY_REQUESTS:
            return None
        return window_value(check, window, warmup_s, Version.CANARY)

    @staticmethod
    def _run_action(failed: int, inconclusive: bool, consecutive_errors: int) -> Action:
        if consecutive_errors > DEFAULT_CONSECUTIVE_ERROR_LIMIT or failed > FAILURE_LIMIT:
            return Action.ROLLBACK  # run Error or Failed: the rollout aborts
        if inconclusive or consecutive_errors > 0:
            return Action.HOLD  # paused for a person, or waiting out errors
        return Action.PROCEED
