"""How the rules verdict and the LLM's opinion become one verdict, within the safety invariants.

Modes:
- `rules`: the rules verdict alone; an LLM opinion, if given, is recorded and not used.
- `hybrid`: the LLM may only make the rules verdict more cautious, and at most up to hold:
  an LLM hold turns a rules proceed into hold; an LLM rollback against a rules proceed or
  hold becomes a hold for a person, so the LLM alone never causes a rollback; the LLM never
  relaxes a rules hold or rollback.
- `llm`: the LLM's action is used, bounded below by the safety floor; an LLM proceed is also
  refused where the evidence is failing, missing or not yet conclusive and the rules judge
  did not proceed itself (the LLM may not be the one that reads "not yet" as healthy).

In every mode a missing or invalid LLM answer leaves the rules verdict standing (invariant 3),
and the final action is never less cautious than the safety floor that the metric results
alone imply (invariants 1 and 2), however the rules judge or the LLM answered. So nothing in
the data, read by the LLM, can force a proceed (invariant 4).

Fields of the rules verdict this module relies on (the contract with the analysis, the same
reading as `rules.metric_finding`):
- `MetricResult.bound.outcome == FAIL`: the canary breached the hard bound with enough
  evidence (not one noisy estimate). This alone triggers invariant 1.
- `MetricResult.stable_bound.outcome == FAIL` with a `comparison` that is absent or not
  `FAIL`: stable breaches the same bound and the canary is not shown worse; the shared
  cause that makes a breach a hold instead of a rollback. Analysis shows stable's breach at
  the e-value 1/proceed_alpha, below the canary's 1/alpha: it can only turn a rollback into
  a hold for a person, the reversible side.
- No canary data: `canary_value` None or NaN, a `bound` outcome `NO_DATA`, or with no bound
  a `comparison` outcome `NO_DATA`; or no metric results at all. Invariant 2: at least hold.
  Stable lacking data alone is not "no data": at the last slice stable carries no traffic.
- `comparison.outcome == FAIL` and any `NOT_YET` outcome only limit an LLM-made proceed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from airollout.core.analysis.types import MetricResult, Outcome
from airollout.core.judge.types import Action, Opinion, Verdict, summary_of
from airollout.core.resource.spec import JudgeMode

__all__ = ["JudgeMode", "SafetyFloor", "combine", "safety_floor"]

_CAUTION = {Action.PROCEED: 0, Action.HOLD: 1, Action.ROLLBACK: 2}


@dataclass(frozen=True, slots=True)
class SafetyFloor:
    """The least cautious action the metric results allow, and why (None: anything goes)."""

    action: Action
    reason: str


def more_cautious(first: Action, second: Action) -> Action:
    return first if _CAUTION[first] >= _CAUTION[second] else second


def safety_floor(metrics: tuple[MetricResult, ...]) -> SafetyFloor | None:
    """What invariants 1 and 2 demand from these metric results alone."""
    breaches = [m for m in metrics if m.bound is not None and m.bound.outcome is Outcome.FAIL]
    own_breaches = [m.name for m in breaches if not stable_breaches_too(m)]
    if own_breaches:
        return SafetyFloor(
            Action.ROLLBACK,
            f"invariant 1: the canary breaches the hard bound of {', '.join(own_breaches)}",
        )
    if breaches:
        names = ", ".join(m.name for m in breaches)
        return SafetyFloor(
            Action.HOLD,
            f"invariant 1: canary and stable both breach the hard bound of {names} and the "
            "canary is no worse; a shared cause that a rollback would not fix",
        )
    missing = [m.name for m in metrics if lacks_data(m)]
    if missing or not metrics:
        what = ", ".join(missing) if missing else "any metric"
        return SafetyFloor(Action.HOLD, f"invariant 2: no usable data for {what}")
    return None


def stable_breaches_too(result: MetricResult) -> bool:
    """The shared-cause case of invariant 1: stable breaches too and canary is not worse."""
    stable = result.stable_bound
    canary_worse = result.comparison is not None and result.comparison.outcome is Outcome.FAIL
    return stable is not None and stable.outcome is Outcome.FAIL and not canary_worse


def lacks_data(result: MetricResult) -> bool:
    if result.canary_value is None or math.isnan(result.canary_value):
        return True
    if result.bound is not None:
        return result.bound.outcome is Outcome.NO_DATA
    return result.comparison is not None and result.comparison.outcome is Outcome.NO_DATA


def _unsettled_metrics(metrics: tuple[MetricResult, ...]) -> list[str]:
    """Metrics whose evidence is failing or not conclusive: no ground for an LLM-made proceed."""
    unsettled = {Outcome.FAIL, Outcome.NOT_YET, Outcome.NO_DATA}
    return [
        m.name
        for m in metrics
        if any(t is not None and t.outcome in unsettled for t in (m.bound, m.comparison))
    ]


def combine(mode: JudgeMode, rules: Verdict, llm: Opinion | None) -> Verdict:
    """The final verdict for one window; every change to a judge's answer is in `overrides`."""
    opinions = rules.opinions + ((llm,) if llm is not None else ())
    overrides = list(rules.overrides)
    action = rules.action
    if mode is not JudgeMode.RULES and llm is not None:
        if llm.action is None:
            overrides.append(
                f"invariant 3: LLM answer ignored ({llm.error}); rules decision stands"
            )
        elif mode is JudgeMode.HYBRID:
            action = _hybrid_action(rules.action, llm.action, overrides)
        else:
            action = _llm_mode_action(rules, llm.action, overrides)
    floor = safety_floor(rules.metrics)
    raised_by = None
    if floor is not None and more_cautious(floor.action, action) is not action:
        overrides.append(f"{floor.reason}: {action.value} raised to {floor.action.value}")
        action, raised_by = floor.action, floor
    reasoning = _reasoning(rules, llm, action)
    return replace(
        rules,
        action=action,
        reasoning=reasoning,
        opinions=opinions,
        overrides=tuple(overrides),
        summary=_summary(rules, llm, action, raised_by),
    )


def _summary(rules: Verdict, llm: Opinion | None, action: Action, floor: SafetyFloor | None) -> str:
    """The rules' summary while their action stands; otherwise who changed it, and why."""
    if action is rules.action:
        return rules.summary  # empty: the rules' brief still stands, worded when recorded
    said = f"the rules said {rules.action.value}"
    if summary_of(rules):
        said += f" ({summary_of(rules)})"
    if floor is not None:
        return f"the safety floor requires at least {floor.action.value}; {said}"
    asked = llm.action.value if llm is not None and llm.action is not None else "caution"
    model = f" ({llm.model})" if llm is not None and llm.model else ""
    if action is Action.HOLD and asked == Action.ROLLBACK.value:
        return f"the LLM judge{model} asked for a rollback, held for a person; {said}"
    return f"the LLM judge{model} asked for {asked}; {said}"


def _hybrid_action(rules_action: Action, llm_action: Action, overrides: list[str]) -> Action:
    capped = Action.HOLD if llm_action is Action.ROLLBACK else llm_action
    action = more_cautious(rules_action, capped)
    if llm_action is Action.ROLLBACK and rules_action is not Action.ROLLBACK:
        overrides.append(
            f"hybrid: LLM rollback against a rules {rules_action.value} becomes hold for a "
            "person; the LLM alone never rolls back"
        )
    elif _CAUTION[llm_action] < _CAUTION[rules_action]:
        overrides.append(
            f"hybrid: LLM {llm_action.value} may not relax the rules {rules_action.value}"
        )
    elif action is not rules_action:
        overrides.append(f"hybrid: LLM {llm_action.value} made the rules proceed more cautious")
    return action


def _llm_mode_action(rules: Verdict, llm_action: Action, overrides: list[str]) -> Action:
    if llm_action is not Action.PROCEED or rules.action is Action.PROCEED:
        if llm_action is not rules.action:
            overrides.append(
                f"llm mode: LLM {llm_action.value} used over the rules {rules.action.value}"
            )
        return llm_action
    unsettled = _unsettled_metrics(rules.metrics)
    if unsettled:
        fallback = more_cautious(Action.HOLD, rules.action)
        overrides.append(
            f"llm mode: LLM proceed refused, evidence failing or not conclusive for "
            f"{', '.join(unsettled)}; {fallback.value}"
        )
        return fallback
    overrides.append(f"llm mode: LLM proceed used over the rules {rules.action.value}")
    return Action.PROCEED


def _reasoning(rules: Verdict, llm: Opinion | None, action: Action) -> str:
    parts = [f"Final: {action.value}.", f"Rules: {rules.reasoning}"]
    if llm is not None and llm.action is not None:
        parts.append(
            f"LLM ({llm.model or 'unknown model'}) said {llm.action.value}: {llm.reasoning}"
        )
    return " ".join(parts)
