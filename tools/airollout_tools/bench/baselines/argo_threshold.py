"""Argo Rollouts' threshold analysis as a judge.

Follows https://argoproj.github.io/argo-rollouts/features/analysis/ (AnalysisTemplate
metrics: `successCondition`, `failureLimit`, `consecutiveErrorLimit`) and the run semantics
of argoproj/argo-rollouts `utils/evaluate` and `analysis/analysis.go`:

- one AnalysisTemplate metric per bound, `successCondition: result[0] <= max`, measured once
  per interval (a measurement is the window's value after the warmup);
- only a success condition, so a false condition is a Failed measurement;
- an empty query result (no data) makes `result[0]` fail to evaluate: an Error measurement;
- `failureLimit: 0` (the default when the field is left out, and what a template without it
  gets): the first Failed measurement fails the run;
- `consecutiveErrorLimit: 4` (the default): a fifth consecutive Error errors the run;
- a Failed or Errored run aborts the rollout (rollback); while the run waits out errors the
  step does not complete (hold); a Successful measurement lets the step complete (proceed).

Argo does not compare canary with stable here: that is what its users report missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airollout.core.analysis.types import AnalysisSettings, Observation, Version
from airollout.core.judge.types import Action, DecisionContext, Verdict
from airollout_tools.bench.baselines.measure import window_value, within_bounds
from airollout_tools.bench.baselines.verdicts import baseline_verdict, show_value, worst_action

DEFAULT_FAILURE_LIMIT = 0
DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4


class ArgoThresholdJudge:
    name = "argo-threshold"

    def __init__(
        self,
        failure_limit: int = DEFAULT_FAILURE_LIMIT,
        consecutive_error_limit: int = DEFAULT_CONSECUTIVE_ERROR_LIMIT,
    ) -> None:
        self.failure_limit = failure_limit
        self.consecutive_error_limit = consecutive_error_limit

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return {"failed": {}, "consecutive_errors": {}}

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        failed = dict(state["failed"])
        errors = dict(state["consecutive_errors"])
        actions, notes = [], []
        for check in settings.metrics:
            if check.max is None and check.min is None:
                continue  # no bound, no successCondition: Argo would have no metric here
            value = window_value(check, window, settings.warmup_s, Version.CANARY)
            measured = _measurement(value, within_bounds(check, value or 0.0))
            failed[check.name] = failed.get(check.name, 0) + (measured == "Failed")
            errors[check.name] = errors.get(check.name, 0) + 1 if measured == "Error" else 0
            action = self._metric_action(failed[check.name], errors[check.name])
            actions.append(action)
            notes.append(f"{check.name}={show_value(value)} {measured} ({action.value})")
        verdict = baseline_verdict(self.name, worst_action(actions), notes)
        return verdict, {"failed": failed, "consecutive_errors": errors}

    def _metric_action(self, failed: int, consecutive_errors: int) -> Action:
        if consecutive_errors > self.consecutive_error_limit:
            return Action.ROLLBACK  # run phase Error: the rollout aborts
        if failed > self.failure_limit:
            return Action.ROLLBACK  # run phase Failed
        if consecutive_errors > 0:
            return Action.HOLD  # the run keeps measuring; the step waits
        return Action.PROCEED


def _measurement(value: float | None, success: bool) -> str:
    if value is None:
        return "Error"
    return "Successful" if success else "Failed"
