"""The promotion score: a logistic model of P(the artifact reaches production without a
regression) on documented features of the signals.

The logit is `intercept + sum(weight[f] * value[f])` over the features of the signals
present; a missing signal contributes 0 and is named in `Score.missing`. Every feature is
0 for the best case (no failures, no drop, no findings), so a weight < 0 says "this lowers
the score" and its contribution is readable on its own. Features (raw units):

- `failed_share`: failed / total tests; `skipped_log`: log1p(skipped)
- `coverage_drop`: percentage points of coverage lost against the baseline (a gain is 0)
- `benchmark_regressions`: benchmarks that regressed; `benchmark_slowdown`: worst ratio - 1
  (a speed-up is 0)
- `critical_vulns`, `high_vulns`, `fixable_critical`: counts; `medium_vulns_log`: log1p
- `dependency_churn`: log1p(added + updated + removed)
- `change_size`: log1p(changed lines); `risk_tier`: low 0, medium 1, high 2
- `error_rate_vs_bound`: the service's error rate / its bound (1 % if none is given)
- `alerts_firing`: firing alerts of the service
- `incident_history`: the service's incident rate with a Beta(1, 9) prior (a new service
  looks like a 10 % one), minus that 10 %, so an unknown history contributes 0

`scalings` are each feature's typical size; the fit divides by them so one regularisation
strength suits all features. The weights here are per raw unit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from airollout.core.promotion.signals import Signals

HISTORY_PRIOR_INCIDENTS = 1.0
HISTORY_PRIOR_ROLLOUTS = 10.0
HISTORY_PRIOR_RATE = HISTORY_PRIOR_INCIDENTS / HISTORY_PRIOR_ROLLOUTS
DEFAULT_ERROR_RATE_BOUND = 0.01
TIER_LEVEL = {"low": 0.0, "medium": 1.0, "high": 2.0}

# feature -> the signal it is computed from (its `missing` name)
FEATURE_SIGNAL: Mapping[str, str] = {
    "failed_share": "tests",
    "skipped_log": "tests",
    "coverage_drop": "coverage_delta",
    "benchmark_regressions": "benchmarks",
    "benchmark_slowdown": "benchmarks",
    "critical_vulns": "vulnerabilities",
    "high_vulns": "vulnerabilities",
    "medium_vulns_log": "vulnerabilities",
    "fixable_critical": "vulnerabilities",
    "dependency_churn": "dependencies",
    "change_size": "change",
    "risk_tier": "change",
    "error_rate_vs_bound": "production",
    "alerts_firing": "production",
    "incident_history": "history",
}
FEATURES = tuple(FEATURE_SIGNAL)


class ModelError(ValueError):
    """A malformed model document; the message names the field."""


@dataclasses.dataclass(frozen=True)
class PromotionModel:
    version: str
    intercept: float
    weights: Mapping[str, float] = dataclasses.field(hash=False)
    scalings: Mapping[str, float] = dataclasses.field(hash=False)

    def __post_init__(self) -> None:
        for name, table in (("weights", self.weights), ("scalings", self.scalings)):
            unknown = sorted(set(table) - set(FEATURES))
            if unknown:
                raise ModelError(f"model.{name}.{unknown[0]}: unknown feature")
        for feature, scale in self.scalings.items():
            if not scale > 0:
                raise ModelError(f"model.scalings.{feature}: must be a number > 0")

    def scale(self, feature: str) -> float:
        return self.scalings.get(feature, 1.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "intercept": self.intercept,
            "weights": dict(self.weights),
            "scalings": dict(self.scalings),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> PromotionModel:
        if not isinstance(obj, Mapping):
            raise ModelError("model: must be an object")
        version = obj.get("version")
        if not isinstance(version, str) or not version:
            raise ModelError("model.version: must be a non-empty string")
        return cls(
            version=version,
            intercept=_finite(obj.get("intercept"), "model.intercept"),
            weights=_table(obj.get("weights", {}), "model.weights"),
            scalings=_table(obj.get("scalings", {}), "model.scalings"),
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Contribution:
    feature: str  # a feature name, or "intercept"
    value: float
    weight: float
    logit: float  # weight * value: what this feature adds to the score's logit


@dataclasses.dataclass(frozen=True, slots=True)
class Score:
    probability: float  # P(no regression in production)
    contributions: tuple[Contribution, ...]  # the intercept first; they sum to the logit
    missing: tuple[str, ...]  # signals absent from the input

    @property
    def logit(self) -> float:
        return math.fsum(c.logit for c in self.contributions)


# Untrained default: hand-set, not fitted. Reasoning, in logit units of P(no regression):
# a clean artifact of a typical size (a few hundred lines, medium tier) lands near 0.95;
# one firing alert or one critical finding costs about as much as a high-risk tier change
# (~1); a coverage drop of 3 points or a 10 % slowdown costs ~0.3-1; any failed test is a
# hard block anyway, the share only shades the score.
DEFAULT_MODEL = PromotionModel(
    version="default-v1",
    intercept=5.3,
    weights={
        "failed_share": -20.0,
        "skipped_log": -0.1,
        "coverage_drop": -0.3,
        "benchmark_regressions": -0.6,
        "benchmark_slowdown": -3.0,
        "critical_vulns": -1.0,
        "high_vulns": -0.3,
        "medium_vulns_log": -0.1,
        "fixable_critical": -1.0,
        "dependency_churn": -0.3,
        "change_size": -0.15,
        "risk_tier": -0.5,
        "error_rate_vs_bound": -1.0,
        "alerts_firing": -1.0,
        "incident_history": -8.0,
    },
    scalings={
        "failed_share": 0.05,
        "skipped_log": 1.0,
        "coverage_drop": 1.0,
        "benchmark_regressions": 1.0,
        "benchmark_slowdown": 0.1,
        "critical_vulns": 1.0,
        "high_vulns": 1.0,
        "medium_vulns_log": 1.0,
        "fixable_critical": 1.0,
        "dependency_churn": 1.0,
        "change_size": 1.0,
        "risk_tier": 1.0,
        "error_rate_vs_bound": 1.0,
        "alerts_firing": 1.0,
        "incident_history": 0.1,
    },
)


def features(s: Signals) -> dict[str, float]:
    """The feature values of the signals present (a missing signal's features are absent)."""
    out: dict[str, float] = {}
    if s.tests is not None:
        out["failed_share"] = s.tests.failed / s.tests.total if s.tests.total else 0.0
        out["skipped_log"] = math.log1p(s.tests.skipped)
    if s.coverage_delta is not None:
        out["coverage_drop"] = max(0.0, -s.coverage_delta)
    if s.benchmarks is not None:
        out["benchmark_regressions"] = float(s.benchmarks.regressions)
        ratio = s.benchmarks.worst_ratio
        out["benchmark_slowdown"] = 0.0 if ratio is None else max(0.0, ratio - 1.0)
    if s.vulnerabilities is not None:
        v = s.vulnerabilities
        out["critical_vulns"] = float(v.critical)
        out["high_vulns"] = float(v.high)
        out["medium_vulns_log"] = math.log1p(v.medium)
        out["fixable_critical"] = float(v.fixable_critical)
    if s.dependencies is not None:
        d = s.dependencies
        out["dependency_churn"] = math.log1p(d.added + d.updated + d.removed)
    if s.change is not None:
        out["change_size"] = math.log1p(s.change.lines or 0)
        out["risk_tier"] = TIER_LEVEL.get(s.change.risk_tier or "low", 0.0)
    if s.production is not None:
        p = s.production
        bound = p.error_rate_bound or DEFAULT_ERROR_RATE_BOUND
        out["error_rate_vs_bound"] = (p.error_rate or 0.0) / bound
        out["alerts_firing"] = float(p.alerts_firing)
    if s.history is not None:
        h = s.history
        rate = (h.incidents + HISTORY_PRIOR_INCIDENTS) / (h.rollouts + HISTORY_PRIOR_ROLLOUTS)
        out["incident_history"] = rate - HISTORY_PRIOR_RATE
    return out


def score(s: Signals, model: PromotionModel = DEFAULT_MODEL) -> Score:
    contributions = [Contribution("intercept", 1.0, model.intercept, model.intercept)]
    for feature, value in features(s).items():
        weight = model.weights.get(feature, 0.0)
        contributions.append(Contribution(feature, value, weight, weight * value))
    logit = math.fsum(c.logit for c in contributions)
    return Score(
        probability=sigmoid(logit), contributions=tuple(contributions), missing=s.missing()
    )


def sigmoid(logit: float) -> float:
    # two branches so a large |logit| neither overflows exp nor loses precision
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    z = math.exp(logit)
    return z / (1.0 + z)


def _finite(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ModelError(f"{where}: must be a finite number")
    return float(value)


def _table(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise ModelError(f"{where}: must be an object of feature -> number")
    return {str(key): _finite(value, f"{where}.{key}") for key, value in raw.items()}
