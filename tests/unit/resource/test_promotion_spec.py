"""spec.promotion: the promotion Job, its thresholds and the review timeout, as parsed,
validated (naming the field) and handed to the machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from airollout.controller.spec_check import machine_spec_of
from airollout.core.resource.spec import ReviewExpiry
from airollout.core.resource.validation import parse_spec, validate
from airollout.core.rollout.machine_spec import ReviewTimeout, ScoreThresholds

pytestmark = pytest.mark.unit

JOB = {"spec": {"template": {"spec": {"containers": [{"name": "score", "image": "score:1"}]}}}}


def spec_with(**promotion: Any) -> dict[str, Any]:
    return {
        "targetRef": {"name": "checkout"},
        "template": {"image": "checkout:2"},
        "promotion": {"jobTemplate": JOB, **promotion},
    }


def test_defaults_are_the_issue_tiers_and_a_review_waits_without_a_timeout() -> None:
    spec = parse_spec(spec_with())
    view = machine_spec_of(spec, {"generation": 3})
    assert view.promotion == ScoreThresholds(auto_promote=0.92, manual_review=0.75)
    assert view.review_timeout is None
    assert spec.promotion is not None
    assert spec.promotion.active_deadline_seconds == 600


def test_the_review_timeout_and_what_it_does_reach_the_machine() -> None:
    spec = parse_spec(
        spec_with(
            thresholds={"autoPromote": 0.9, "manualReview": 0.6},
            reviewTimeout="1h",
            onReviewTimeout="approve",
        )
    )
    view = machine_spec_of(spec, {})
    assert view.promotion == ScoreThresholds(auto_promote=0.9, manual_review=0.6)
    assert view.review_timeout == ReviewTimeout(3600.0, ReviewExpiry.APPROVE)


def test_no_promotion_section_runs_no_promotion_job() -> None:
    raw = spec_with()
    del raw["promotion"]
    assert machine_spec_of(parse_spec(raw), {}).promotion is None


@pytest.mark.parametrize(
    ("promotion", "field", "words"),
    [
        (
            {"thresholds": {"autoPromote": 0.8, "manualReview": 0.9}},
            "spec.promotion.thresholds.manualReview",
            "must not be above autoPromote (0.8)",
        ),
        ({"thresholds": {"manualReview": -0.1}}, "spec.promotion.thresholds.manualReview", "0"),
        ({"reviewTimeout": "0s"}, "spec.promotion.reviewTimeout", "longer than 0s"),
        ({"reviewTimeout": "soon"}, "spec.promotion.reviewTimeout", ""),
        ({"onReviewTimeout": "wait"}, "spec.promotion.onReviewTimeout", "reject"),
        ({"jobTemplate": {"spec": {}}}, "spec.promotion.jobTemplate.spec.template", "container"),
        ({"thresholds": {"auto": 0.9}}, "spec.promotion.thresholds.auto", "unknown field"),
    ],
)
def test_a_bad_promotion_section_names_the_field(
    promotion: dict[str, Any], field: str, words: str
) -> None:
    errors = validate(spec_with(**promotion))
    named = [error for error in errors if error.path.startswith(field)]
    assert named, errors
    assert words in named[0].message


def test_the_promotion_example_is_valid_and_runs_all_three_jobs() -> None:
    example = Path(__file__).parents[3] / "examples" / "checkout-promotion-rollout.yaml"
    spec = parse_spec(yaml.safe_load(example.read_text())["spec"])
    assert spec.selection is not None
    assert spec.tests is not None
    assert spec.promotion is not None
    assert spec.promotion.review_timeout_seconds == 4 * 3600
    view = machine_spec_of(spec, {})
    assert (view.selection, view.tests, view.promotion) == (True, True, ScoreThresholds(0.92, 0.75))
