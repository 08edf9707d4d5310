"""The refit: it learns what the outcomes say, and the thresholds hold their target."""

from __future__ import annotations

import random

import pytest

from airollout.core.promotion.fit import MIN_EXAMPLES, fit, fit_with_reason, thresholds_for
from airollout.core.promotion.model import DEFAULT_MODEL, PromotionModel, score
from airollout.core.promotion.signals import Signals, VulnerabilitySignal

pytestmark = pytest.mark.unit


def _examples(count: int, seed: int) -> list[tuple[Signals, bool]]:
    """High vulnerabilities make incidents likelier (a known sign); medium ones do nothing."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        high, medium = rng.randint(0, 4), rng.randint(0, 4)
        incident = rng.random() < 0.05 + 0.15 * high
        out.append(
            (Signals(vulnerabilities=VulnerabilitySignal(high=high, medium=medium)), incident)
        )
    return out


def test_the_fit_recovers_the_sign_of_a_known_effect() -> None:
    flipped = PromotionModel(
        version="wrong",
        intercept=0.0,
        weights={**DEFAULT_MODEL.weights, "high_vulns": 2.0},  # says high ones help: wrong
        scalings=dict(DEFAULT_MODEL.scalings),
    )
    model = fit(_examples(2000, seed=3), flipped)
    assert model.weights["high_vulns"] < -0.3
    assert abs(model.weights["medium_vulns_log"]) < abs(model.weights["high_vulns"]) / 3
    assert model.weights["alerts_firing"] == DEFAULT_MODEL.weights["alerts_firing"]


def test_too_few_examples_or_one_class_keep_the_base_with_a_reason() -> None:
    few = fit_with_reason(_examples(MIN_EXAMPLES - 1, seed=1), DEFAULT_MODEL)
    assert few.model is DEFAULT_MODEL
    assert not few.fitted
    assert "a fit needs" in few.reason
    healthy_only = [(signals, False) for signals, _ in _examples(500, seed=2)]
    assert fit(healthy_only, DEFAULT_MODEL) is DEFAULT_MODEL


@pytest.mark.parametrize("target", [0.0, 0.1, 0.25, 0.5])
def test_thresholds_for_hold_their_target_on_their_own_data(target: float) -> None:
    examples = _examples(1500, seed=5)
    model = fit(examples, DEFAULT_MODEL)
    probabilities = [score(signals, model).probability for signals, _ in examples]
    incidents = [incident for _, incident in examples]
    thresholds = thresholds_for(probabilities, incidents, target)
    promoted = [
        incident
        for p, incident in zip(probabilities, incidents, strict=True)
        if p >= thresholds.auto_promote
    ]
    assert sum(promoted) / sum(incidents) <= target
    assert thresholds.manual_review <= thresholds.auto_promote
    looser = thresholds_for(probabilities, incidents, min(1.0, target + 0.2))
    assert looser.auto_promote <= thresholds.auto_promote


def test_thresholds_without_incidents_are_the_defaults() -> None:
    assert thresholds_for([0.9, 0.95], [False, False], 0.1).auto_promote == 0.92
