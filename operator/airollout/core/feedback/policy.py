"""Versioned policies: the promotion model, its thresholds and the selection escalations,
each new version with what changed and why.

`recalibrate` proposes the next version from labelled outcomes; nothing changes silently,
and whether a proposal is applied is the feedback app's setting, not this module's.
"""

from __future__ import annotations

import dataclasses
import math
import posixpath
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from airollout.core.feedback.outcomes import Escape
from airollout.core.feedback.scores import brier
from airollout.core.promotion.blocks import BlockRules, hard_blocks
from airollout.core.promotion.fit import fit, thresholds_for
from airollout.core.promotion.model import DEFAULT_MODEL, ModelError, PromotionModel, score
from airollout.core.promotion.signals import Signals
from airollout.core.promotion.tiers import Decision, Thresholds, ThresholdsError, decide

# Fewer outcomes or incidents than these and a threshold would sit on a few artifacts'
# scores. (`fit` has its own minimum; below it, it returns the base model unchanged.)
MIN_EXAMPLES = 50
MIN_INCIDENTS = 5
# A refit replaces the model only when it scores the outcomes this much better (Brier).
MIN_BRIER_GAIN = 0.002
# Thresholds move in whole hundredths, rounded up (the cautious way), so the same data
# gives the same policy and a recalibration never churns by a rounding error.
THRESHOLD_STEP = 0.01
DEFAULT_BLOCK_RULES = BlockRules()


class PolicyError(ValueError):
    """A malformed policy document; the message names the field."""


@dataclasses.dataclass(frozen=True)
class Policy:
    version: int
    model: PromotionModel
    thresholds: Thresholds
    selection_escalations: tuple[str, ...]  # path globs whose changes get wider selection
    changes: tuple[str, ...]  # what changed against the previous version, and why
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "model": self.model.to_json(),
            "thresholds": self.thresholds.to_json(),
            "selection_escalations": list(self.selection_escalations),
            "changes": list(self.changes),
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Policy:
        if not isinstance(obj, Mapping):
            raise PolicyError("policy: must be an object")
        version = obj.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise PolicyError("policy.version: must be an integer >= 1")
        try:
            model = PromotionModel.from_json(obj.get("model"))  # type: ignore[arg-type]
            thresholds = Thresholds.from_json(obj.get("thresholds"))  # type: ignore[arg-type]
        except (ModelError, ThresholdsError) as error:
            raise PolicyError(f"policy.{error}") from error
        return cls(
            version=version,
            model=model,
            thresholds=thresholds,
            selection_escalations=_strings(obj.get("selection_escalations", []), "escalations"),
            changes=_strings(obj.get("changes", []), "changes"),
            created_at=_time(obj.get("created_at")),
        )


def _strings(raw: Any, name: str) -> tuple[str, ...]:
    field = f"policy.{'selection_escalations' if name == 'escalations' else name}"
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise PolicyError(f"{field}: must be a list of strings")
    return tuple(raw)


def _time(raw: Any) -> datetime:
    try:
        at = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        raise PolicyError("policy.created_at: must be an ISO 8601 time") from None
    if at.tzinfo is None:
        raise PolicyError("policy.created_at: must carry a time zone")
    return at


def initial_policy(now: datetime) -> Policy:
    return Policy(
        version=1,
        model=DEFAULT_MODEL,
        thresholds=Thresholds(),
        selection_escalations=(),
        changes=("the untrained default model and the default thresholds",),
        created_at=now,
    )


def recalibrate(
    current: Policy,
    labelled: Sequence[tuple[Signals, bool]],
    target_false_promotion_rate: float,
    now: datetime,
    *,
    escapes: Sequence[Escape] = (),
    rules: BlockRules = DEFAULT_BLOCK_RULES,
) -> Policy | None:
    """The next policy from (signals, incident) outcomes and escapes; None if none differs.

    False-promotion rate (`thresholds_for`'s): the share of incidents auto-promoted.
    """
    if not 0.0 < target_false_promotion_rate < 1.0:
        raise ValueError(
            f"target_false_promotion_rate: must be in (0, 1), not {target_false_promotion_rate}"
        )
    changes: list[str] = []
    model = _refit(current.model, labelled, changes)
    thresholds = _rethreshold(current, model, labelled, target_false_promotion_rate)
    if thresholds != current.thresholds:
        changes.extend(
            _threshold_reasons(
                current, (model, thresholds), labelled, target_false_promotion_rate, rules
            )
        )
    escalations = _widened(current.selection_escalations, escapes, changes)
    if not changes:
        return None
    return Policy(
        version=current.version + 1,
        model=model,
        thresholds=thresholds,
        selection_escalations=escalations,
        changes=tuple(changes),
        created_at=now,
    )


def _probabilities(model: PromotionModel, labelled: Sequence[tuple[Signals, bool]]) -> list[float]:
    return [score(signals, model).probability for signals, _ in labelled]


def _model_brier(model: PromotionModel, labelled: Sequence[tuple[Signals, bool]]) -> float:
    return brier(_probabilities(model, labelled), [not incident for _, incident in labelled])


def _refit(
    model: PromotionModel, labelled: Sequence[tuple[Signals, bool]], changes: list[str]
) -> PromotionModel:
    refit = fit(labelled, model)
    if refit is model:
        return model
    before, after = _model_brier(model, labelled), _model_brier(refit, labelled)
    if before - after < MIN_BRIER_GAIN:
        return model
    incidents = sum(1 for _, incident in labelled if incident)
    changes.append(
        f"model {model.version} → {refit.version}: refit on {len(labelled)} labelled "
        f"outcomes ({incidents} incidents), Brier score {before:.3f} → {after:.3f}"
    )
    return refit


def _rethreshold(
    current: Policy,
    model: PromotionModel,
    labelled: Sequence[tuple[Signals, bool]],
    target: float,
) -> Thresholds:
    old = current.thresholds
    incidents = [incident for _, incident in labelled]
    if len(incidents) < MIN_EXAMPLES or sum(incidents) < MIN_INCIDENTS:
        return old
    proposed = thresholds_for(
        _probabilities(model, labelled), incidents, target, manual_review=old.manual_review
    )
    auto, review = _step_up(proposed.auto_promote), _step_up(proposed.manual_review)
    if (auto, review) == (_step_up(old.auto_promote), _step_up(old.manual_review)):
        return old
    return Thresholds(auto_promote=auto, manual_review=min(review, auto))


def _step_up(value: float) -> float:
    steps = math.ceil(round(value / THRESHOLD_STEP, 6))
    return min(1.0, steps * THRESHOLD_STEP)


def _threshold_reasons(
    current: Policy,
    proposed: tuple[PromotionModel, Thresholds],
    labelled: Sequence[tuple[Signals, bool]],
    target: float,
    rules: BlockRules,
) -> list[str]:
    """Why each threshold moved: what the current policy did with these artifacts, and
    what the proposed one would have done."""
    old, new = current.thresholds, proposed[1]
    before = _decided(current.model, old, labelled, rules)
    after = _decided(proposed[0], new, labelled, rules)
    incidents = sum(1 for _, incident in labelled if incident)
    reasons = []
    if new.auto_promote != old.auto_promote:
        was, would = (
            _incidents_in(before, Decision.AUTO_PROMOTE),
            _incidents_in(after, Decision.AUTO_PROMOTE),
        )
        reasons.append(
            f"autoPromote {old.auto_promote:.2f} → {new.auto_promote:.2f}: "
            f"{was[0]} of {was[1]} auto-promoted artifacts regressed; the new policy would "
            f"have auto-promoted {would[0]} of {incidents} incidents "
            f"(target ≤ {target * 100:g} %)"
        )
    if new.manual_review != old.manual_review:
        was, would = _incidents_in(before, Decision.BLOCK), _incidents_in(after, Decision.BLOCK)
        reasons.append(
            f"manualReview {old.manual_review:.2f} → {new.manual_review:.2f}: "
            f"{was[0]} of {was[1]} blocked artifacts regressed, "
            f"{would[0]} of {would[1]} with the new policy"
        )
    return reasons


def _decided(
    model: PromotionModel,
    thresholds: Thresholds,
    labelled: Sequence[tuple[Signals, bool]],
    rules: BlockRules,
) -> list[tuple[Decision, bool]]:
    return [
        (decide(score(s, model).probability, hard_blocks(s, rules), thresholds), incident)
        for s, incident in labelled
    ]


def _incidents_in(decided: Sequence[tuple[Decision, bool]], tier: Decision) -> tuple[int, int]:
    """(incidents, artifacts) the tier got."""
    inside = [incident for decision, incident in decided if decision is tier]
    return sum(inside), len(inside)


def _widened(
    escalations: tuple[str, ...], escapes: Sequence[Escape], changes: list[str]
) -> tuple[str, ...]:
    """Each directory a change with an escape touched gets its whole directory selected."""
    tests_by_glob: dict[str, set[str]] = {}
    for escape in escapes:
        for path in escape.changed_paths:
            tests_by_glob.setdefault(_directory_glob(path), set()).add(escape.test)
    added = sorted(set(tests_by_glob) - set(escalations))
    for glob in added:
        tests = sorted(tests_by_glob[glob])
        changes.append(
            f"selection: changes to {glob} select their directory's tests: "
            f"{len(tests)} {'test' if len(tests) == 1 else 'tests'} escaped the targeted plan "
            f"for changes there ({', '.join(tests[:5])}{', …' if len(tests) > 5 else ''})"
        )
    return tuple(sorted({*escalations, *added}))


def _directory_glob(path: str) -> str:
    directory = posixpath.dirname(path)
    return f"{directory}/**" if directory else path
