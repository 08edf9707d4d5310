"""What the operator reads from an AIRollout object: its spec as the machine sees it, and
the checks the schema cannot make (query variables, a Prometheus to send them to)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from airollout.adapters.metrics.queries import query_errors
from airollout.core.resource.spec import AIRolloutSpec, PromotionSpec
from airollout.core.resource.validation import FieldError
from airollout.core.rollout.machine_spec import MachineSpec, OnHold, ReviewTimeout, ScoreThresholds


def machine_spec_of(spec: AIRolloutSpec, meta: Mapping[str, Any]) -> MachineSpec:
    on_hold = spec.on_hold
    return MachineSpec(
        generation=int(meta.get("generation") or 1),
        slices=tuple(spec.traffic.slices),
        interval_s=spec.analysis.interval_seconds,
        warmup_s=spec.analysis.warmup_seconds,
        on_hold=OnHold(on_hold.timeout_seconds, on_hold.then) if on_hold else None,
        paused=spec.paused,
        selection=spec.selection is not None,
        tests=spec.tests is not None,
        promotion=_thresholds(spec.promotion),
        review_timeout=_review_timeout(spec.promotion),
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        revision=spec.revision or spec.template.image or "",
        template_hash=template_hash(spec),
    )


def _thresholds(promotion: PromotionSpec | None) -> ScoreThresholds | None:
    if promotion is None:
        return None
    tiers = promotion.thresholds
    return ScoreThresholds(auto_promote=tiers.auto_promote, manual_review=tiers.manual_review)


def _review_timeout(promotion: PromotionSpec | None) -> ReviewTimeout | None:
    timeout = promotion.review_timeout_seconds if promotion is not None else None
    if promotion is None or timeout is None:
        return None
    return ReviewTimeout(timeout, promotion.on_review_timeout)


def template_hash(spec: AIRolloutSpec) -> str:
    """Names the canary version spec.template describes: equal templates, equal hashes."""
    template = spec.template.model_dump(mode="json", by_alias=True, exclude_none=True)
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:16]


def fallback_machine_spec(raw_spec: Any, meta: Mapping[str, Any]) -> MachineSpec:
    """Enough of a spec that failed validation for the machine to fail the rollout cleanly."""
    return MachineSpec(
        generation=int(meta.get("generation") or 1),
        slices=(100,),
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
    )


def unsupported(spec: AIRolloutSpec, default_prometheus: str | None) -> Iterator[FieldError]:
    """Valid by the schema, but not something this operator can carry out."""
    yield from query_errors(spec.analysis.metrics)
    if spec.analysis.metrics and spec.analysis.prometheus is None and not default_prometheus:
        yield FieldError(
            "spec.analysis.prometheus.address",
            "metrics need a Prometheus: set it here or start the operator with --prometheus-url",
        )
