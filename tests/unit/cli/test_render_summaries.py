"""`airollout status` puts each decision's summary first and its details below; `watch`
(and so the demo) prints the summary alone; no figure prints as a stand-in value."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from airollout.cli.manifest import rollout_view
from airollout.cli.progress import Progress
from airollout.cli.render import render_decision
from airollout.core.analysis.sequential import EVALUE_CAP
from airollout.core.resource.status import CheckRecord, DecisionRecord

pytestmark = pytest.mark.unit

Builder = Callable[..., Any]
SUMMARY = (
    "Rollback at 25 %: canary error rate 4.1 % (221 of 5400 requests) is above the 0.5 % bound."
)


def summarised(decision: Builder) -> DecisionRecord:
    record: DecisionRecord = decision(reasoning="Rollback at 25% because the e-value is 1e9.")
    return record.model_copy(update={"summary": SUMMARY})


def test_status_shows_the_summary_first_then_the_details(decision: Builder) -> None:
    lines = render_decision(summarised(decision))

    details = [line.strip() for line in lines].index("Details:")
    assert " ".join(line.strip() for line in lines[1:details]) == SUMMARY
    assert lines[details + 1].strip() == "Rollback at 25% because the e-value is 1e9."
    assert any("error-rate [errorRate]" in line for line in lines[details + 2 :])


def test_watch_prints_the_summary_and_not_the_details(
    manifest: Builder, status: Builder, decision: Builder
) -> None:
    printed = Progress().update(rollout_view(manifest(status(), [summarised(decision)])))

    text = " ".join(" ".join(printed).split())
    assert SUMMARY in text
    assert "e-value is 1e9" not in text
    assert "error-rate [errorRate]" not in text


def test_a_record_written_before_summaries_still_shows_its_reasoning(decision: Builder) -> None:
    lines = render_decision(decision(reasoning="Error rate is 4x stable."), detailed=False)

    assert lines[1].strip() == "Error rate is 4x stable."


def test_an_evidence_at_the_cap_is_said_in_words(decision: Builder) -> None:
    record: DecisionRecord = decision()
    metric = record.metrics[0].model_copy(
        update={"bound": CheckRecord(test="bound-anytime", outcome="fail", evidence=EVALUE_CAP)}
    )
    lines = render_decision(record.model_copy(update={"metrics": [metric]}))

    text = "\n".join(lines)
    assert "evidence beyond 10^300" in text
    assert f"{EVALUE_CAP:.4g}" not in text
    assert math.isfinite(EVALUE_CAP)
