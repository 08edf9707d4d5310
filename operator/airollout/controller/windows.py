"""The window a `JudgeWindow` action names, with what the judge needs to know about it."""

from __future__ import annotations

from collections.abc import Mapping

from airollout.controller.decide import WindowToJudge
from airollout.controller.snapshot import LoadedRollout
from airollout.core.analysis.types import Version
from airollout.core.resource.status import AIRolloutStatus
from airollout.core.rollout.actions import JudgeWindow
from airollout.core.rollout.progression import decision_context
from airollout.core.rollout.timeline import from_rfc3339


def window_to_judge(
    rollout: LoadedRollout,
    status: AIRolloutStatus,
    action: JudgeWindow,
    workloads: Mapping[Version, str],
) -> WindowToJudge:
    assert rollout.spec is not None  # judged only when the spec is valid
    start, end = from_rfc3339(action.start), from_rfc3339(action.end)
    slice_started = from_rfc3339(status.slice_started_at) if status.slice_started_at else start
    created = rollout.created_at or start
    context = decision_context(rollout.view, status, max((end - created).total_seconds(), 0.0))
    return WindowToJudge(
        namespace=rollout.ref.namespace,
        rollout=rollout.ref.name,
        spec=rollout.spec,
        workloads=workloads,
        start=start,
        end=end,
        slice_started_at=slice_started,
        context=context,
        evidence=status.evidence,
    )
