"""Flagger's metric checks as a judge.

Follows https://docs.flagger.app/usage/metrics (built-in `request-success-rate` and
`request-duration` with `thresholdRange`) and https://docs.flagger.app/usage/how-it-works
(canary analysis: each `interval` every metric is checked against its thresholdRange; a
failed check halts advancement and counts toward `threshold`; reaching it rolls back; a
query with no values found also halts and counts as failed):

- one check per bound per interval (a check reads the window's value after the warmup);
- at most one failed check is counted per interval, as Flagger stops at the first failure;
- `threshold` left out, so Flagger's code default of 1: fluxcd/flagger
  `pkg/apis/flagger/v1beta1/canary.go`, `GetAnalysisThreshold` ("returns the canary
  threshold (default 1)": `return 1` when the field is 0). The tutorials' `threshold: 5`
  can never be reached here: a failed check halts advancement, and a slice that holds 3
  windows ends as hold, so every regression would end as a hold. The failed-check count is
  kept for the whole analysis;
- Flagger rolls back at the interval after the count reaches the threshold; here the same
  window's verdict rolls back, which is one interval kinder to Flagger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airollout.core.analysis.types import AnalysisSettings, Observation, Version
from airollout.core.judge.types import Action, DecisionContext, Verdict
from airollout_tools.bench.baselines.measure import window_value, within_bounds
from airollout_tools.bench.baselines.verdicts import baseline_verdict, show_value

DEFAULT_THRESHOLD = 1


class FlaggerThresholdJudge:
    name = "flagger-threshold"

    def __init__(self, threshold: int = DEFAULT_THRESHOLD) -> None:
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
        action = flagger_action(failed_now, failed_checks, self.threshold)
        notes.append(f"failed checks {failed_checks}/{self.threshold}")
        return baseline_verdict(self.name, action, notes), {"failed_checks": failed_checks}


def flagger_action(failed_now: bool, failed_checks: int, threshold: int) -> Action:
    """Roll back once the failed checks reach the threshold; a failed check halts (holds)."""
    if failed_checks >= threshold:
        return Action.ROLLBACK
    return Action.HOLD if failed_now else Action.PROCEED
