"""Flagger's metric checks as a judge.

Follows https://docs.flagger.app/usage/metrics (built-in `request-success-rate` and
`request-duration` with `thresholdRange`) and https://docs.flagger.app/usage/how-it-works
(canary analysis: each `interval` every metric is checked against its thresholdRange; a
failed check halts advancement and counts toward `threshold`; reaching it rolls back; a
query with no values found also halts and counts as failed):

- one check per bound per interval (a check reads the window's value after the warmup);
- at most one failed check is counted per interval, as Flagger stops at the first failure;
- `threshold: 5`, the setting of Flagger's tutorials (for example
  https://docs.flagger.app/tutorials/istio-progressive-delivery); the code's default when
  the field is left out is 1. The failed-check count is kept for the whole analysis;
- Flagger rolls back at the interval after the count reaches the threshold; here the same
  window's verdict rolls back, which is one interval kinder to Flagger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airollout.analysis.types import AnalysisSettings, Observation, Version
from airollout.bench.baselines.measure import window_value, within_bounds
from airollout.bench.baselines.verdicts import baseline_verdict, show_value
from airollout.judge.types import Action, DecisionContext, Verdict

TUTORIAL_THRESHOLD = 5


class FlaggerThresholdJudge:
    name = "flagger-threshold"

    def __init__(self, threshold: int = TUTORIAL_THRESHOLD) -> None:
        self.threshold = threshold

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return {"failed_checks": 0}

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        failed_checks = int(state["failed_checks"])
        notes = []
        failed_now = False
        for check in settings.metrics:
            if check.max is None and check.min is None:
                continue  # no thresholdRange, nothing to check
            value = window_value(check, window, settings.warmup_s, Version.CANARY)
            passed = value is not None and within_bounds(check, value)
            notes.append(f"{check.name}={show_value(value)} {'ok' if passed else 'failed'}")
            if not passed:
                failed_now = True
                break  # Flagger halts at the first failed metric
        if failed_now:
            failed_checks += 1
        action = self._action(failed_now, failed_checks)
        notes.append(f"failed checks {failed_checks}/{self.threshold}")
        return baseline_verdict(self.name, action, notes), {"failed_checks": failed_checks}

    def _action(self, failed_now: bool, failed_checks: int) -> Action:
        if failed_checks >= self.threshold:
            return Action.ROLLBACK
        return Action.HOLD if failed_now else Action.PROCEED
