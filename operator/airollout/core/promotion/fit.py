"""Refitting the promotion model from labelled outcomes, and thresholds that hold a target.

The fit is scikit-learn's L2-regularised logistic regression on the model's own features,
each divided by its scaling so one regularisation strength suits them all. Its output is
the calibrated probability (Platt scaling is exactly a logistic fit of the outcome), so no
second calibration stage is stacked on it; the feedback loop checks it with the expected
calibration error of the scores it gave before the outcomes were known.

Pure: the examples come in as values, the model goes out as a value.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from airollout.core.promotion.model import FEATURES, PromotionModel, features
from airollout.core.promotion.signals import Signals
from airollout.core.promotion.tiers import Thresholds

MIN_EXAMPLES = 50
MIN_PER_CLASS = 5
REGULARISATION_C = 1.0  # inverse L2 strength on scaled features; 1 is mild at these sizes


@dataclasses.dataclass(frozen=True)
class FitResult:
    model: PromotionModel
    fitted: bool
    reason: str  # why the base was kept, or what was fitted on


def fit(
    examples: Sequence[tuple[Signals, bool]],
    base: PromotionModel,
    sample_weights: Sequence[float] | None = None,
) -> PromotionModel:
    """The model refitted on (signals, incident) pairs; the base when there is too little."""
    return fit_with_reason(examples, base, sample_weights).model


def fit_with_reason(
    examples: Sequence[tuple[Signals, bool]],
    base: PromotionModel,
    sample_weights: Sequence[float] | None = None,
) -> FitResult:
    incidents = sum(1 for _, incident in examples if incident)
    healthy = len(examples) - incidents
    if len(examples) < MIN_EXAMPLES or min(incidents, healthy) < MIN_PER_CLASS:
        return FitResult(
            base,
            fitted=False,
            reason=(
                f"kept {base.version}: {len(examples)} examples ({incidents} incidents), "
                f"a fit needs {MIN_EXAMPLES} with {MIN_PER_CLASS} of each outcome"
            ),
        )
    if sample_weights is not None and len(sample_weights) != len(examples):
        raise ValueError(
            f"sample_weights: {len(sample_weights)} weights for {len(examples)} examples"
        )
    scales = np.array([base.scale(f) for f in FEATURES])
    rows = [features(signals) for signals, _ in examples]
    x = np.array([[row.get(f, 0.0) for f in FEATURES] for row in rows]) / scales
    # the score's event is "no regression", so the fit's positive class is healthy
    y = np.array([0 if incident else 1 for _, incident in examples])
    regression = LogisticRegression(C=REGULARISATION_C, max_iter=1000)
    # one BLAS thread: at 15 features threads cost more than they save (5x on 2 busy cores)
    with threadpool_limits(limits=1):
        regression.fit(x, y, sample_weight=None if sample_weights is None else list(sample_weights))
    coefficients = [float(c) for c in regression.coef_[0]]
    seen = [any(f in row for row in rows) for f in FEATURES]
    weights = {
        # a feature no example had keeps its base weight: the data says nothing about it
        feature: coefficient / scale if present else base.weights.get(feature, 0.0)
        for feature, coefficient, scale, present in zip(
            FEATURES, coefficients, scales.tolist(), seen, strict=True
        )
    }
    model = PromotionModel(
        version=f"fitted-{len(examples)}",
        intercept=float(regression.intercept_[0]),
        weights=weights,
        scalings=dict(base.scalings),
    )
    return FitResult(
        model, fitted=True, reason=f"fitted on {len(examples)} examples ({incidents} incidents)"
    )


def thresholds_for(
    probabilities: Sequence[float],
    incidents: Sequence[bool],
    target_false_promotion_rate: float,
    manual_review: float = Thresholds().manual_review,
) -> Thresholds:
    """The lowest auto-promote threshold whose false-promotion rate on these past scores
    (incidents auto-promoted / incidents) is at most the target.

    Lowest, because every point above it sends more good artifacts to a person. With no
    incident in the data nothing can be said, and the default thresholds stand.
    """
    if len(probabilities) != len(incidents):
        raise ValueError(f"{len(probabilities)} probabilities but {len(incidents)} outcomes")
    if not 0.0 <= target_false_promotion_rate <= 1.0:
        raise ValueError("target_false_promotion_rate: must be a number in [0, 1]")
    bad = sorted((p for p, incident in zip(probabilities, incidents, strict=True) if incident))
    if not bad:
        return Thresholds()
    allowed = math.floor(target_false_promotion_rate * len(bad) + 1e-9)
    if allowed >= len(bad):
        auto = min(probabilities)
    else:
        # the (allowed+1)-th most confident incident must stay below the threshold
        highest_stopped = bad[len(bad) - 1 - allowed]
        above = [p for p in probabilities if p > highest_stopped]
        auto = (highest_stopped + min(above)) / 2 if above else math.nextafter(highest_stopped, 2)
    auto = min(1.0, auto)
    return Thresholds(auto_promote=auto, manual_review=min(manual_review, auto))
