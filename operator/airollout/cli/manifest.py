"""What the commands read from one AIRollout manifest, parsed once through the api models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from airollout.core.resource.names import ACTION_ANNOTATION, ACTION_BY_ANNOTATION
from airollout.core.resource.spec import TrafficSpec
from airollout.core.resource.status import AIRolloutStatus, DecisionRecord


@dataclass(frozen=True)
class RolloutView:
    namespace: str
    name: str
    status: AIRolloutStatus
    decisions: tuple[DecisionRecord, ...]  # oldest first, as the operator appends them
    unreadable_decisions: int = 0  # records that do not fit DecisionRecord (a newer operator?)
    target: str = ""
    revision: str | None = None
    slices: tuple[int, ...] = ()
    paused: bool = False
    pending_action: str | None = None  # asked for by annotation, not yet acted on
    pending_by: str | None = None
    raw_status: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


def rollout_view(manifest: Mapping[str, Any]) -> RolloutView:
    """Tolerant by design: a rollout with an invalid spec is exactly one people inspect."""
    metadata = manifest.get("metadata") or {}
    spec = manifest.get("spec") or {}
    raw_status = manifest.get("status") or {}
    annotations = metadata.get("annotations") or {}
    target = spec.get("targetRef") or {}
    decisions, unreadable = _decision_records(raw_status.get("decisions") or [])
    return RolloutView(
        namespace=metadata.get("namespace", ""),
        name=metadata.get("name", ""),
        status=_status(raw_status),
        decisions=decisions,
        unreadable_decisions=unreadable,
        target=f"{target.get('kind', 'Deployment')}/{target.get('name', '?')}",
        revision=spec.get("revision"),
        slices=tuple(_slices(spec)),
        paused=spec.get("paused") is True,
        pending_action=annotations.get(ACTION_ANNOTATION),
        pending_by=annotations.get(ACTION_BY_ANNOTATION),
        raw_status=raw_status,
    )


def _status(raw: Mapping[str, Any]) -> AIRolloutStatus:
    try:
        return AIRolloutStatus.model_validate(raw)
    except ValidationError:
        # Keep what the summary needs most; the phase alone still tells people where it is.
        try:
            return AIRolloutStatus.model_validate({"phase": raw.get("phase", "Pending")})
        except ValidationError:
            return AIRolloutStatus()


def _decision_records(raw: list[Any]) -> tuple[tuple[DecisionRecord, ...], int]:
    records: list[DecisionRecord] = []
    for entry in raw:
        try:
            records.append(DecisionRecord.model_validate(entry))
        except ValidationError:
            continue
    return tuple(records), len(raw) - len(records)


def _slices(spec: Mapping[str, Any]) -> list[int]:
    slices = (spec.get("traffic") or {}).get("slices")
    if slices is None:
        return list(TrafficSpec().slices)  # what the apiserver defaults it to
    if isinstance(slices, list) and all(isinstance(weight, int) for weight in slices):
        return slices
    return []
