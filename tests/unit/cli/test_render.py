"""The status summary and decision text people read, built from the api models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airollout.cli.manifest import rollout_view
from airollout.cli.render import number, render_decision, render_status, traffic_line
from airollout.core.resource.status import AIRolloutStatus, DecisionRecord

pytestmark = pytest.mark.unit

Builder = Callable[..., Any]


def test_summary_shows_phase_reason_message_traffic_target_revision_and_conditions(
    manifest: Builder, status: Builder
) -> None:
    view = rollout_view(manifest(status()))

    text = render_status(view, decisions=5)

    assert "AIRollout shop/checkout-4f2a1c" in text
    assert "Progressing (SliceHealthy)" in text
    assert "Slice 2 of 4 is being analysed." in text
    assert "slice 2/4, canary at 25%" in text
    assert "Deployment/checkout" in text
    assert "4f2a1c" in text
    assert "Progressing=True  SliceHealthy (generation 1)" in text
    assert "Decisions: none yet" in text


def test_decision_shows_reasoning_metrics_judges_and_overrides(decision: Builder) -> None:
    record: DecisionRecord = decision()

    text = "\n".join(render_decision(record, slices=[10, 25, 50, 100]))

    heading = text.splitlines()[0]
    for part in (record.time, "ROLLBACK", "slice 2/4 at 25%", "window 3", "[g1-s1-w1]"):
        assert part in heading
    assert record.reasoning in text
    assert "error-rate [errorRate]: canary 0.0412 (n=5400) vs stable 0.0098 (n=48000)" in text
    assert "bound max → fail (statistic 0.0412, threshold 0.005)" in text
    assert "above the bound with confidence" in text
    assert "compare rate-ratio → worse (statistic 4.2, evidence 310)" in text
    assert "rules: rollback" in text
    assert "llm (gpt-4o, 20.50s, 812 prompt + 0 completion tokens): no usable answer" in text
    assert "error: timed out after 20s" in text
    assert "- The LLM gave no answer; the rules decision stands." in text


def test_long_reasoning_is_wrapped_and_keeps_every_word(decision: Builder) -> None:
    words = [f"word{index}" for index in range(80)]
    record = decision(reasoning=" ".join(words))

    lines = render_decision(record)

    body = [line for line in lines if "word" in line]
    assert len(body) > 1
    assert all(len(line) <= 100 for line in body)
    assert " ".join(" ".join(body).split()) == " ".join(words)


def test_status_shows_only_the_newest_decisions_asked_for(
    manifest: Builder, status: Builder, decision: Builder
) -> None:
    records = [decision(key=f"w{index}", reasoning=f"Reason number {index}.") for index in range(4)]
    view = rollout_view(manifest(status(), records))

    text = render_status(view, decisions=2)

    assert "2 of 4" in text
    assert "Reason number 3." in text
    assert "Reason number 2." in text
    assert "Reason number 1." not in text
    assert text.index("Reason number 2.") < text.index("Reason number 3.")


def test_status_names_a_pending_request_and_a_pause(manifest: Builder, status: Builder) -> None:
    annotations = {"airollout.dev/action": "abort", "airollout.dev/action-by": "ana@laptop"}
    view = rollout_view(manifest(status(), paused=True, annotations=annotations))

    text = render_status(view, decisions=5)

    assert "abort by ana@laptop, not yet acted on" in text
    assert "spec.paused" in text


def test_a_record_in_an_unknown_shape_is_counted_not_fatal(
    manifest: Builder, status: Builder, decision: Builder
) -> None:
    raw = manifest(status(), [decision()])
    raw["status"]["decisions"].append({"action": "proceed"})  # no time, no reasoning

    text = render_status(rollout_view(raw), decisions=5)

    assert "Error rate is 4x stable." in text
    assert "1 records in a shape this CLI cannot read" in text


def test_traffic_before_the_first_slice_says_so() -> None:
    assert (
        traffic_line([10, 50, 100], None, 0)
        == "no slice yet, canary at 0% (slices 10% → 50% → 100%)"
    )


@pytest.mark.parametrize(
    ("value", "shown"), [(None, "-"), (48000.0, "48000"), (0.00123456, "0.001235"), (2.5, "2.5")]
)
def test_numbers_are_short_and_counts_have_no_decimal_point(
    value: float | None, shown: str
) -> None:
    assert number(value) == shown


def test_a_status_the_models_reject_still_renders_its_phase(manifest: Builder) -> None:
    raw = manifest(AIRolloutStatus())
    raw["status"] = {"phase": "RolledBack", "weight": 250}  # out of the schema's range

    text = render_status(rollout_view(raw), decisions=5)

    assert "Phase:      RolledBack" in text
