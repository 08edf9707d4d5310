"""Flagger as a careful user configures it: `threshold: 2` and a canary/primary ratio metric.

The same analysis as `flagger_threshold` (https://docs.flagger.app/usage/how-it-works,
https://docs.flagger.app/usage/metrics), with what a user adds after reading the metrics
page on custom checks:

- `threshold: 2`: one unlucky interval halts advancement, a second failed check rolls back;
- the built-in `request-success-rate` and `request-duration` checks with the bounds, then
  one MetricTemplate per metric for the canary/primary ratio, checked with
  `thresholdRange: {max: RATIO}`. The template's query divides the canary's value by the
  primary's, floored at a share of the bound (`clamp_min(primary, 0.002)` for a 0.5 % error
  bound) so a primary with no errors does not make the ratio infinite:
  error rate at most 2 x primary, p99 at most 1.25 x primary;
- as Flagger does, the checks run in order and the first failed one halts the interval, and
  "no values found" (here: no data on either side) is a failed check.

While the canary takes all traffic (the 100 % slice) the primary series is empty; the last
primary value seen stands in. The settings were chosen on the shared scenario set
(`../shared/scenarios`) before any other set was run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airollout.core.analysis.types import AnalysisSettings, MetricCheck, Observation, Version
from airollout.core.judge.types import DecisionContext, Verdict
from airollout.core.resource.kinds import MetricKind
from airollout_tools.bench.baselines.flagger_threshold import flagger_action
from airollout_tools.bench.baselines.measure import bound_of, bounded, window_value, within_bounds
from airollout_tools.bench.baselines.verdicts import baseline_verdict, show_value

TUNED_THRESHOLD = 2
RATIO_MAX = {MetricKind.ERROR_RATE: 2.0, MetricKind.LATENCY: 1.25}
PRIMARY_FLOOR_SHARE = 0.4  # of the bound


def primary_ratio(check: MetricCheck, canary: float, primary: float) -> float:
    """The MetricTemplate's result: canary / primary, the primary floored at a bound share."""
    return canary / max(primary, PRIMARY_FLOOR_SHARE * bound_of(check))


class FlaggerTunedJudge:
    name = "flagger-tuned"

    def __init__(self, threshold: int = TUNED_THRESHOLD) -> None:
        self.threshold = threshold

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return {"failed_checks": 0, "primary": {}}

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        failed_checks, last_primary = int(state["failed_checks"]), dict(state["primary"])
        values = {}
        for check in bounded(settings):
            canary = window_value(check, window, settings.warmup_s, Version.CANARY)
            primary = window_value(check, window, settings.warmup_s, Version.STABLE)
            primary = last_primary.get(check.name) if primary is None else primary
            if primary is not None:
                last_primary[check.name] = primary
            values[check.name] = (check, canary, primary)
        failure = first_failure(list(values.values()))
        failed_checks += failure is not None
        notes = [
            f"{name}={show_value(canary)} vs primary {show_value(primary)}"
            for name, (_, canary, primary) in values.items()
        ]
        notes.append(f"{failure or 'all checks'} {'failed' if failure else 'ok'}")
        notes.append(f"failed checks {failed_checks}/{self.threshold}")
        action = flagger_action(failure is not None, failed_checks, self.threshold)
        verdict = baseline_verdict(self.name, action, notes)
        return verdict, {"failed_checks": failed_checks, "primary": last_primary}


def first_failure(values: Sequence[tuple[MetricCheck, float | None, float | None]]) -> str | None:
    """The first failed check in Flagger's order: the built-in bounds, then the ratios."""
    for check, canary, _ in values:
        if canary is None or not within_bounds(check, canary):
            return check.name
    for check, canary, primary in values:
        limit = RATIO_MAX.get(check.kind)
        if limit is None or canary is None:
            continue
        if primary is None or primary_ratio(check, canary, primary) > limit:
            return f"{check.name}-ratio"
    return None
