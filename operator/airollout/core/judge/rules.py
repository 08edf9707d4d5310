"""The default judge: hard bounds with confidence, then anytime-valid canary-vs-stable tests.

Per window it folds the observations into the evidence state (analysis.evaluate) and
decides, in this order:

1. the canary breaches a bound with confidence (e-value 1/alpha) -> rollback, unless stable
   breaches it too and the comparison does not find the canary worse: a shared cause ->
   hold. Stable's breach is shown at 1/proceed_alpha: it can only make the verdict a hold,
   and at the first slices the canary's few requests can otherwise show a breach that both
   versions share a window before stable's larger sample does;
2. the comparison finds the canary worse than stable beyond tolerance -> rollback;
3. a metric without canary data in this window -> hold (no data never proceeds);
4. every metric shown healthy (its bound passes, or with no bound its comparison passes,
   and nothing fails) -> proceed;
5. otherwise -> hold: not enough evidence yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from airollout.core.analysis.evaluate import evaluate_window, initial_state
from airollout.core.analysis.types import (
    AnalysisSettings,
    MetricResult,
    Observation,
    Outcome,
    TestResult,
)
from airollout.core.judge import summary
from airollout.core.judge.pods import pod_action
from airollout.core.judge.types import Action, DecisionContext, Opinion, Verdict

JUDGE_NAME = "airollout"


class Finding(NamedTuple):
    """The action one metric calls for, and why, in one sentence (a tuple: built per metric).

    `basis` names the reason in a word (judge.summary's constants), so the summary is built
    from the deciding metrics alone."""

    action: Action
    reason: str
    basis: str


def _outcome(test: TestResult | None) -> Outcome | None:
    return None if test is None else test.outcome


# The comparison's e-value from which the data favour a worse canary enough to hold the last
# proceed before stable stops serving: two to one. Such a hold costs a window at the slice
# where the comparison gathers evidence fastest; a promotion ends the comparison for good.
# Chosen on 840 reseeded scenarios over 2, 3 and 5 (then 1/proceed_alpha); on 840 fresh ones
# it promoted 17 thin relative regressions where 5 promoted 20, for 4 more needless holds.
LEANING_EVIDENCE = 2.0


def _leaning_worse(comparison: TestResult | None) -> bool:
    """Evidence that the canary is worse is building (e-value from LEANING_EVIDENCE): not
    enough for a rollback, too much to leave behind.

    It holds only a proceed after which no slice compares the canary with stable any more
    (at 100 % stable serves nothing): there the comparison could never finish. A step to a
    slice where stable still serves is another matter: the comparison keeps running there,
    anytime-valid, and with a larger canary share it gathers the canary's events faster, so
    it settles sooner either way.
    """
    if comparison is None or comparison.outcome is not Outcome.NOT_YET:
        return False
    return comparison.evidence is not None and comparison.evidence >= LEANING_EVIDENCE


def metric_finding(metric: MetricResult, comparison_ends: bool = True) -> Finding:
    """What one metric's results call for on their own; `comparison_ends`: no later slice
    compares the canary with stable (see `_leaning_worse`)."""
    bound, stable_bound, comparison = metric.bound, metric.stable_bound, metric.comparison
    worse = _outcome(comparison) is Outcome.FAIL
    if bound is not None and bound.outcome is Outcome.FAIL:
        if _outcome(stable_bound) is Outcome.FAIL and not worse:
            return Finding(
                Action.HOLD,
                f"{metric.name}: canary and stable both breach the bound, and the canary is "
                "not worse than stable, so the cause is shared and a rollback would not fix it.",
                summary.SHARED,
            )
        return Finding(Action.ROLLBACK, f"{metric.name}: {bound.message}", summary.BREACH)
    if worse and comparison is not None:
        return Finding(Action.ROLLBACK, f"{metric.name}: {comparison.message}", summary.WORSE)
    if bound is not None and bound.outcome is Outcome.NO_DATA:
        return Finding(Action.HOLD, f"{metric.name}: {bound.message}", summary.NO_DATA)
    if comparison is not None and comparison.outcome is Outcome.NO_DATA and bound is None:
        return Finding(Action.HOLD, f"{metric.name}: {comparison.message}", summary.NO_DATA)
    vouching = bound if bound is not None else comparison
    if vouching is None:
        if metric.canary_n <= 0.0:
            return Finding(
                Action.HOLD, f"{metric.name}: no canary data in this window.", summary.NO_DATA
            )
        return Finding(
            Action.PROCEED,
            f"{metric.name}: informational, no test configured.",
            summary.INFORMATIONAL,
        )
    if vouching.outcome is Outcome.PASS and comparison_ends and _leaning_worse(comparison):
        assert comparison is not None
        return Finding(Action.HOLD, f"{metric.name}: {comparison.message}", summary.LEANING)
    if vouching.outcome is Outcome.PASS:
        return Finding(Action.PROCEED, f"{metric.name}: {vouching.message}", summary.HEALTHY)
    return Finding(Action.HOLD, f"{metric.name}: {vouching.message}", summary.UNSURE)


_MOST_SEVERE_FIRST = (Action.ROLLBACK, Action.HOLD, Action.PROCEED)
_CAPITALISED = {action: action.value.capitalize() for action in Action}


def worst_of(findings: Sequence[Finding]) -> Action:
    """The most severe action any metric calls for; with no metric at all, hold."""
    called_for = {finding.action for finding in findings}
    for action in _MOST_SEVERE_FIRST:
        if action in called_for:
            return action
    return Action.HOLD


def reasoning(action: Action, findings: Sequence[Finding], context: DecisionContext) -> str:
    """One paragraph: the decision, then the findings that drove it, then the rest."""
    deciding = [f.reason for f in findings if f.action is action]
    others = [f.reason for f in findings if f.action is not action]
    opening = (
        f"{_CAPITALISED[action]} at {context.weight}% "
        f"(slice {context.slice_index}, window {context.window_index})"
    )
    if not findings:
        return f"{opening}: no metrics are configured, so there is nothing to vouch for the canary."
    text = f"{opening} because " + " ".join(deciding)
    if others:
        text += " Also: " + " ".join(others)
    return text


class RulesJudge:
    """The rules-and-statistics judge; no network, a small JSON state between windows."""

    name: ClassVar[str] = JUDGE_NAME

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return initial_state()

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        metrics, new_state = evaluate_window(
            settings, state, context.slice_index, window, context.promotes
        )
        comparison_ends = not context.comparison_continues
        findings = [metric_finding(metric, comparison_ends) for metric in metrics]
        brief_findings = list(findings)
        pods = pod_action(*context.pods)
        if pods is not None:
            findings.append(Finding(pods[0], pods[1], summary.PODS))
        action = worst_of(findings)
        text = reasoning(action, findings, context)
        opinion = Opinion(judge="rules", action=action, reasoning=text)
        if pods is not None and pods[0] is action and worst_of(brief_findings) is not action:
            # The pods alone decide: no metric's reading says why, so their sentence does.
            said = pods[1].removeprefix("pods: ").rstrip(".")
            verdict = Verdict(action, text, metrics, (opinion,), summary=said)
            return verdict, new_state
        brief = deciding_points(action, brief_findings, metrics, settings)
        return Verdict(action, text, metrics, (opinion,), brief=brief), new_state


def deciding_points(
    action: Action,
    findings: Sequence[Finding],
    metrics: Sequence[MetricResult],
    settings: AnalysisSettings,
) -> summary.Brief:
    """What the summary is made of: the metrics whose finding is the verdict's action.

    Only gathered here; the words are put together when a record is written
    (`judge.types.summary_of`), so deciding stays as cheap as it was."""
    checks = settings.metrics
    points = tuple(
        [
            summary.Point(finding.basis, metrics[i], checks[i])
            for i, finding in enumerate(findings)
            if finding.action is action
        ]
    )
    return summary.Brief(points, checks)
