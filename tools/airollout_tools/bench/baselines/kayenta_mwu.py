"""Kayenta's Netflix ACA judge (Mann-Whitney classifier) as a judge.

Follows https://spinnaker.io/guides/user/canary/judge (the NetflixACAJudge: metrics
classified High / Low / Pass / Nodata by a Mann-Whitney U test of canary against baseline,
score = 100 x Pass / classified, pass and marginal score thresholds, metric `direction`)
with the classifier of spinnaker/kayenta `MannWhitneyClassifier.scala`:

- per metric, canary and baseline are the per-step values inside the window (a time
  series, as Kayenta queries it), NaN and empty steps removed;
- the judge's fixed confidence 0.98 gives a confidence interval of the location shift
  (canary - baseline); its Hodges-Lehmann estimate times the tolerance 0.25 gives a band;
- the interval never leaves the data range: spinnaker/kayenta
  `kayenta-mannwhitney/src/main/scala/com/netflix/kayenta/mannwhitney/MannWhitney.scala`
  (commit 552aa62) sets `muMin = x.min - y.max` and `muMax = x.max - y.min` (lines 55-56)
  and its `findRoot` returns muMin or muMax when the root lies beyond them (lines 81-86),
  so with 4 points or fewer per side the interval is the range of differences, not
  (-inf, inf), and a canary wholly above its baseline can still be High;
  the interval wholly above the band (and a mean ratio >= the allowed increase, 1.0) is
  High. Both metrics use `direction: increase`, so a decrease is a Pass;
- identical data is a Pass; no data on either side is Nodata; 50 % or more Nodata scores 0;
- score >= 95 (pass) proceeds, >= 75 (marginal) holds, below fails (rollback): the
  usual Spinnaker canary-analysis thresholds, read per interval as Kayenta's interim scores.

Where the benchmark model gives the stable version no traffic (the 100 % slice), Kayenta's
separate baseline deployment would still be serving; the last baseline series seen stands in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from scipy.special import ndtri

from airollout.core.analysis.types import AnalysisSettings, Observation, Version
from airollout.core.judge.types import Action, DecisionContext, Verdict
from airollout_tools.bench.baselines.measure import step_values
from airollout_tools.bench.baselines.verdicts import baseline_verdict

CONFIDENCE = 0.98
TOLERANCE = 0.25
ALLOWED_INCREASE = 1.0
PASS_SCORE = 95.0
MARGINAL_SCORE = 75.0


class Classification(StrEnum):
    HIGH = "High"
    LOW = "Low"
    PASS = "Pass"
    NODATA = "Nodata"


@dataclass(frozen=True, slots=True)
class ShiftInterval:
    """Confidence interval of the canary-minus-baseline shift and its Hodges-Lehmann estimate."""

    lower: float
    upper: float
    estimate: float


def shift_interval(
    canary: Sequence[float], baseline: Sequence[float], confidence: float
) -> ShiftInterval:
    """The distribution-free interval that inverts the Mann-Whitney test (normal approximation)."""
    differences = np.sort(np.subtract.outer(np.asarray(canary), np.asarray(baseline)).ravel())
    n, m = len(canary), len(baseline)
    z = float(ndtri(1 - (1 - confidence) / 2))
    rank = math.floor(n * m / 2 - z * math.sqrt(n * m * (n + m + 1) / 12))
    estimate = float(np.median(differences))
    # Too few points for the rank to exist: Kayenta's root search stops at the ends of the
    # data range (its muMin and muMax), so the interval is that range, never unbounded.
    rank = max(rank, 0)
    return ShiftInterval(float(differences[rank]), float(differences[-rank - 1]), estimate)


def classify(canary: Sequence[float], baseline: Sequence[float]) -> Classification:
    """One metric's class for `direction: increase`."""
    if not canary or not baseline:
        return Classification.NODATA
    if list(canary) == list(baseline):
        return Classification.PASS
    interval = shift_interval(canary, baseline, CONFIDENCE)
    band = TOLERANCE * abs(interval.estimate)
    if interval.lower > band and _mean_ratio(canary, baseline) >= ALLOWED_INCREASE:
        return Classification.HIGH
    return Classification.PASS


def _mean_ratio(canary: Sequence[float], baseline: Sequence[float]) -> float:
    canary_mean, baseline_mean = float(np.mean(canary)), float(np.mean(baseline))
    if baseline_mean == 0:
        return math.inf if canary_mean > 0 else 1.0
    return canary_mean / baseline_mean


def score(classes: Sequence[Classification]) -> float:
    """100 x Pass / classified metrics; 0 when half or more of the metrics had no data."""
    nodata = sum(c is Classification.NODATA for c in classes)
    if not classes or 2 * nodata >= len(classes):
        return 0.0
    passed = sum(c is Classification.PASS for c in classes)
    return 100.0 * passed / (len(classes) - nodata)


def action_for_score(value: float) -> Action:
    if value >= PASS_SCORE:
        return Action.PROCEED
    if value >= MARGINAL_SCORE:
        return Action.HOLD
    return Action.ROLLBACK


class KayentaMwuJudge:
    name = "kayenta-mwu"

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return {"baseline": {}}

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        last_baseline = dict(state["baseline"])
        classes, notes = [], []
        for check in settings.metrics:
            canary = step_values(check, window, settings.warmup_s, Version.CANARY)
            baseline = step_values(check, window, settings.warmup_s, Version.STABLE)
            baseline = baseline or list(last_baseline.get(check.name, []))
            last_baseline[check.name] = baseline
            classes.append(classify(canary, baseline))
            notes.append(f"{check.name} {classes[-1].value} (n={len(canary)}/{len(baseline)})")
        value = score(classes)
        notes.append(f"score {value:.0f}")
        verdict = baseline_verdict(self.name, action_for_score(value), notes)
        return verdict, {"baseline": last_baseline}
