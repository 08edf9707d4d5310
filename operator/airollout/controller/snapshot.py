"""An AIRollout as one reconcile sees it: parsed once, with what failed to parse."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airollout.adapters.kubernetes.events import InvolvedRollout
from airollout.adapters.traffic.router import RolloutTarget
from airollout.controller.spec_check import fallback_machine_spec, machine_spec_of, unsupported
from airollout.core.resource.names import ACTION_ANNOTATION, ACTION_BY_ANNOTATION
from airollout.core.resource.spec import AIRolloutSpec, PodTemplate, Router, TargetRef
from airollout.core.resource.status import AIRolloutStatus
from airollout.core.resource.validation import FieldError, SpecError, parse_spec
from airollout.core.rollout.machine_spec import MachineSpec
from airollout.core.rollout.timeline import from_rfc3339


@dataclass(frozen=True)
class LoadedRollout:
    ref: InvolvedRollout
    meta: Mapping[str, Any]
    raw_spec: Mapping[str, Any]
    spec: AIRolloutSpec | None  # None when the spec is invalid: see `errors`
    errors: tuple[FieldError, ...]
    view: MachineSpec
    status: AIRolloutStatus
    resource_version: str

    @property
    def target(self) -> RolloutTarget | None:
        if self.spec is None:
            return None
        return RolloutTarget(self.ref.namespace, self.ref.name, self.ref.uid, self.spec)

    @property
    def router_kind(self) -> Router:
        return self.spec.traffic.router if self.spec is not None else Router.REPLICAS

    def rollback_target(self) -> RolloutTarget | None:
        """The target even when the spec no longer validates: a rollback needs only its name."""
        if self.spec is not None:
            return self.target
        name = (self.raw_spec.get("targetRef") or {}).get("name")
        if not isinstance(name, str) or not name:
            return None
        bare = AIRolloutSpec.model_construct(
            target_ref=TargetRef.model_construct(name=name), template=PodTemplate.model_construct()
        )
        return RolloutTarget(self.ref.namespace, self.ref.name, self.ref.uid, bare)

    @property
    def requested_action(self) -> tuple[str, str] | None:
        """(action, by) a person asked for through the annotations, if any."""
        annotations = self.meta.get("annotations") or {}
        action = annotations.get(ACTION_ANNOTATION)
        if not action:
            return None
        return str(action).strip().lower(), str(annotations.get(ACTION_BY_ANNOTATION) or "")

    @property
    def created_at(self) -> datetime | None:
        stamp = self.meta.get("creationTimestamp")
        return from_rfc3339(stamp) if isinstance(stamp, str) else None

    @property
    def deleted_at(self) -> datetime | None:
        """When deletion was asked for; None while the rollout is not being deleted."""
        stamp = self.meta.get("deletionTimestamp")
        return from_rfc3339(stamp) if isinstance(stamp, str) else None


def load(body: Mapping[str, Any], default_prometheus: str | None) -> LoadedRollout:
    meta = body.get("metadata") or {}
    raw_spec = body.get("spec") or {}
    ref = InvolvedRollout(str(meta.get("namespace")), str(meta.get("name")), str(meta.get("uid")))
    status = AIRolloutStatus.model_validate(body.get("status") or {})
    spec: AIRolloutSpec | None
    try:
        spec = parse_spec(raw_spec)
        errors = tuple(unsupported(spec, default_prometheus))
    except SpecError as error:
        spec, errors = None, tuple(error.errors)
    view = (
        machine_spec_of(spec, meta) if spec is not None else fallback_machine_spec(raw_spec, meta)
    )
    return LoadedRollout(
        ref=ref,
        meta=meta,
        raw_spec=raw_spec,
        spec=spec if not errors else None,
        errors=errors,
        view=view,
        status=status,
        resource_version=str(meta.get("resourceVersion") or ""),
    )
