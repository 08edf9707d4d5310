"""The one assembly of a window's judge input, from spec, status and the due window alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airollout.core.analysis.types import Version
from airollout.core.resource.spec import JudgeMode
from airollout.core.resource.status import AIRolloutStatus
from airollout.core.resource.validation import parse_spec
from airollout.core.rollout.actions import JudgeWindow
from airollout.core.rollout.judge_input import judge_input
from airollout.core.rollout.machine_spec import MachineSpec

pytestmark = pytest.mark.unit

SPEC = parse_spec(
    {
        "targetRef": {"name": "web"},
        "template": {"image": "web:v2"},
        "analysis": {
            "interval": "1m",
            "warmup": "20s",
            "alpha": 0.05,
            "metrics": [
                {"name": "errors", "kind": "errorRate", "errorQuery": "e", "totalQuery": "t"},
                {"name": "p99", "kind": "latency", "bucketsQuery": "b", "quantile": 0.99},
            ],
        },
        "judge": {"mode": "hybrid", "llm": {"model": "m"}},
    }
)
MACHINE = MachineSpec(
    generation=2, slices=(10, 50, 100), name="web-v2", namespace="shop", revision="web:v2"
)
WORKLOADS = {Version.CANARY: "web-canary", Version.STABLE: "web"}
WINDOW = JudgeWindow(
    key="g2-s0-w3-judge",
    window="g2-s0-w3",
    start="2026-11-25T12:02:00Z",
    end="2026-11-25T12:03:00Z",
)


def at_slice(index: int, **fields: object) -> AIRolloutStatus:
    return AIRolloutStatus.model_validate({"slice": index, "weight": (10, 50)[index], **fields})


def test_the_input_holds_the_window_the_settings_and_where_the_rollout_stands() -> None:
    status = at_slice(0, sliceStartedAt="2026-11-25T12:01:30Z", windowsAtSlice=2)
    status = status.model_copy(update={"evidence": {"errors": {"n": 3}}})
    created = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    given = judge_input(SPEC, MACHINE, status, WINDOW, WORKLOADS, created)

    assert (given.namespace, given.rollout) == ("shop", "web-v2")
    assert (given.start_s, given.duration_s) == (30.0, 60.0), "from the slice's traffic change"
    assert given.end == datetime(2026, 11, 25, 12, 3, tzinfo=UTC)
    assert given.workloads == WORKLOADS
    assert [check.name for check in given.settings.metrics] == ["errors", "p99"]
    assert (given.settings.warmup_s, given.settings.alpha) == (20.0, 0.05)
    assert [metric.name for metric in given.analysis.metrics] == ["errors", "p99"]
    assert given.judge.mode is JudgeMode.HYBRID
    assert given.evidence == {"errors": {"n": 3}}
    context = given.context
    assert (context.rollout, context.namespace, context.revision) == ("web-v2", "shop", "web:v2")
    assert (context.slice_index, context.weight, context.window_index) == (0, 10, 3)
    assert context.elapsed_s == 180.0
    assert context.promotes is False, "a 50 % slice follows"
    assert context.comparison_continues is True, "stable serves at 50 % too"


def test_the_last_judged_slice_promotes_and_missing_times_fall_back_to_the_window() -> None:
    given = judge_input(SPEC, MACHINE, at_slice(1), WINDOW, WORKLOADS, created_at=None)

    assert given.slice_started_at == given.start, "no traffic change recorded: the window's start"
    assert given.start_s == 0.0
    assert given.context.elapsed_s == 60.0, "no creation time: counted from the window's start"
    assert given.context.promotes is True, "the next slice is 100 %"
    assert given.context.comparison_continues is False, "stable serves nothing at 100 %"
    assert given.evidence == {}


def test_a_creation_time_after_the_window_counts_as_no_time_elapsed() -> None:
    late = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    assert judge_input(SPEC, MACHINE, at_slice(0), WINDOW, WORKLOADS, late).context.elapsed_s == 0
