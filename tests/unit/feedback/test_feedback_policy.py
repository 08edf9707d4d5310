"""Policies: the JSON round trip, and recalibration from labelled outcomes and escapes."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest

from airollout.core.feedback.outcomes import Escape
from airollout.core.feedback.policy import Policy, PolicyError, initial_policy, recalibrate
from airollout.core.promotion.model import score
from airollout.core.promotion.signals import (
    ChangeSignal,
    ProductionSignal,
    Signals,
    TestSignal,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 5, 1, tzinfo=UTC)
TARGET = 0.05


def history(count: int, seed: int = 7) -> list[tuple[Signals, bool]]:
    """Artifacts whose incidents follow a hidden rule far riskier than the default model's:
    big changes and firing alerts cause most incidents, so the default is overconfident."""
    rng = random.Random(seed)
    examples = []
    for _ in range(count):
        lines = int(rng.lognormvariate(5.0, 1.2))
        alerts = rng.choice((0, 0, 0, 1, 2))
        tier = rng.choice(("low", "medium", "high"))
        logit = 5.0 - 0.6 * math.log1p(lines) - 1.2 * alerts + (0.0 if tier != "high" else -0.8)
        incident = rng.random() > 1 / (1 + math.exp(-logit))
        signals = Signals(
            tests=TestSignal(total=500, failed=0, skipped=rng.randint(0, 4)),
            change=ChangeSignal(files=max(1, lines // 40), lines=lines, risk_tier=tier),
            production=ProductionSignal(error_rate=0.001, alerts_firing=alerts),
        )
        examples.append((signals, incident))
    return examples


def escape(test: str, *paths: str) -> Escape:
    return Escape(test, "r9", paths, NOW, NOW)


def test_a_policy_survives_its_json() -> None:
    policy = initial_policy(NOW)
    assert Policy.from_json(policy.to_json()) == policy


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("version", 0, r"policy\.version: must be an integer >= 1"),
        ("created_at", "yesterday", r"policy\.created_at: must be an ISO 8601 time"),
        ("selection_escalations", "src/**", r"policy\.selection_escalations: must be a list"),
        ("thresholds", {"auto_promote": 2}, r"policy\.thresholds\.auto_promote"),
        ("model", {"version": ""}, r"policy\.model\.version"),
    ],
)
def test_a_malformed_policy_names_the_field(field: str, value: object, message: str) -> None:
    document = initial_policy(NOW).to_json() | {field: value}
    with pytest.raises(PolicyError, match=message):
        Policy.from_json(document)


def test_too_few_outcomes_and_no_escapes_change_nothing() -> None:
    assert recalibrate(initial_policy(NOW), history(12), TARGET, NOW) is None


def test_recalibration_refits_the_model_and_says_by_how_much_it_scores_better() -> None:
    examples = history(400)
    policy = recalibrate(initial_policy(NOW), examples, TARGET, NOW)
    assert policy is not None
    assert (policy.version, policy.created_at) == (2, NOW)
    assert policy.model.version != "default-v1"
    [model_change] = [change for change in policy.changes if change.startswith("model ")]
    assert model_change.startswith("model default-v1 → ")
    before, after = (float(x) for x in model_change.split("Brier score ")[1].split(" → "))
    assert after < before


def test_new_thresholds_hold_the_target_false_promotion_rate_on_the_outcomes() -> None:
    examples = history(400)
    policy = recalibrate(initial_policy(NOW), examples, TARGET, NOW)
    assert policy is not None
    incidents = [score(s, policy.model).probability for s, incident in examples if incident]
    auto_promoted = [p for p in incidents if p >= policy.thresholds.auto_promote]
    assert len(auto_promoted) <= TARGET * len(incidents)
    [reason] = [change for change in policy.changes if change.startswith("autoPromote")]
    assert reason.startswith(f"autoPromote 0.92 → {policy.thresholds.auto_promote:.2f}: ")
    assert "auto-promoted artifacts regressed" in reason
    assert reason.endswith(
        f"auto-promoted {len(auto_promoted)} of {len(incidents)} incidents (target ≤ 5 %)"
    )


def test_a_second_recalibration_on_the_same_outcomes_changes_nothing() -> None:
    examples = history(400)
    policy = recalibrate(initial_policy(NOW), examples, TARGET, NOW)
    assert policy is not None
    assert recalibrate(policy, examples, TARGET, NOW) is None


def test_escapes_widen_selection_for_their_changes_directories() -> None:
    escapes = [
        escape("tests/test_pay.py::test_refund", "shop/pay/refund.py", "setup.cfg"),
        escape("tests/test_pay.py::test_void", "shop/pay/void.py"),
    ]
    policy = recalibrate(initial_policy(NOW), [], TARGET, NOW, escapes=escapes)
    assert policy is not None
    assert policy.selection_escalations == ("setup.cfg", "shop/pay/**")
    assert policy.changes == (
        "selection: changes to setup.cfg select their directory's tests: 1 test escaped the "
        "targeted plan for changes there (tests/test_pay.py::test_refund)",
        "selection: changes to shop/pay/** select their directory's tests: 2 tests escaped "
        "the targeted plan for changes there (tests/test_pay.py::test_refund, "
        "tests/test_pay.py::test_void)",
    )
    assert recalibrate(policy, [], TARGET, NOW, escapes=escapes) is None


def test_a_target_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="target_false_promotion_rate"):
        recalibrate(initial_policy(NOW), [], 5.0, NOW)
