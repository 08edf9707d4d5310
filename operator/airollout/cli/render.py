"""The rollout as text people read: the status summary and each decision with its reasoning."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airollout.cli.manifest import RolloutView
from airollout.core.analysis.sequential import EVALUE_CAP
from airollout.core.resource.status import (
    CheckRecord,
    Condition,
    DecisionRecord,
    MetricRecord,
    OpinionRecord,
)

WIDTH = 100
INDENT = "    "


def render_status(view: RolloutView, decisions: int) -> str:
    """The summary `airollout status` prints, with the newest `decisions` records."""
    lines = [f"AIRollout {view.ref}", *_summary(view)]
    lines += _conditions(view.status.conditions)
    lines += _decisions_section(view, decisions)
    return "\n".join(lines)


def _summary(view: RolloutView) -> list[str]:
    status = view.status
    phase = f"{status.phase.value} ({status.reason})" if status.reason else status.phase.value
    rows = [("Phase", phase)]
    if status.message:
        rows.append(("Message", status.message))
    rows.append(("Target", view.target))
    rows.append(("Revision", view.revision or "-"))
    rows.append(("Traffic", traffic_line(view.slices, status.slice, status.weight)))
    if view.paused:
        rows.append(("Paused", "yes (spec.paused); `airollout resume` continues"))
    if status.blocked_by:
        rows.append(("Blocked by", status.blocked_by))
    if status.promotion:
        rows.append(("Promotion", promotion_line(status.promotion)))
    if view.pending_action:
        by = f" by {view.pending_by}" if view.pending_by else ""
        rows.append(("Requested", f"{view.pending_action}{by}, not yet acted on"))
    return [f"  {label + ':':<12}{value}" for label, value in rows]


def promotion_line(verdict: Mapping[str, Any]) -> str:
    """`0.953 auto-promote (model default-v1)`, then the hard blocks if any."""
    score = verdict.get("score")
    shown = f"{score:.3f}" if isinstance(score, int | float) else "?"
    model = f" (model {verdict['model']})" if verdict.get("model") else ""
    blocks = "; ".join(str(block) for block in verdict.get("blocks") or [])
    line = f"{shown} {verdict.get('decision', '?')}{model}"
    return f"{line}; blocks: {blocks}" if blocks else line


def traffic_line(slices: Sequence[int], index: int | None, weight: int) -> str:
    plan = " → ".join(f"{step}%" for step in slices)
    if index is None:
        where = f"no slice yet, canary at {weight}%"
    else:
        where = f"slice {index + 1}/{len(slices) or '?'}, canary at {weight}%"
    return f"{where} (slices {plan})" if plan else where


def _conditions(conditions: Sequence[Condition]) -> list[str]:
    if not conditions:
        return []
    lines = ["Conditions:"]
    for condition in conditions:
        generation = (
            f" (generation {condition.observed_generation})"
            if condition.observed_generation is not None
            else ""
        )
        lines.append(f"  {condition.type}={condition.status}  {condition.reason}{generation}")
        if condition.message:
            lines += _wrapped(condition.message, INDENT)
    return lines


def _decisions_section(view: RolloutView, limit: int) -> list[str]:
    total = len(view.decisions)
    if total == 0 or limit <= 0:
        return ["Decisions: none yet"] if total == 0 else []
    shown = view.decisions[-limit:]
    heading = f"Decisions (newest last, {len(shown)} of {total}):"
    lines = [heading]
    for record in shown:
        lines += ["", *render_decision(record, view.slices)]
    if view.unreadable_decisions:
        lines.append(f"({view.unreadable_decisions} records in a shape this CLI cannot read)")
    return lines


def render_decision(
    record: DecisionRecord, slices: Sequence[int] = (), detailed: bool = True
) -> list[str]:
    """One record: a heading line and its summary; `detailed` adds the reasoning paragraph,
    metrics, judges and overrides below it (a record without a summary shows its reasoning)."""
    lines = [f"  {_decision_heading(record, slices)}"]
    if record.summary:
        lines += _wrapped(record.summary, INDENT)
    if not detailed:
        return lines if record.summary else lines + _wrapped(record.reasoning, INDENT)
    if record.summary and record.reasoning:
        lines.append(f"{INDENT}Details:")
    lines += _wrapped(record.reasoning, INDENT + "  " if record.summary else INDENT)
    if record.metrics:
        lines.append(f"{INDENT}Metrics:")
        for metric in record.metrics:
            lines += _metric_lines(metric)
    if record.opinions:
        lines.append(f"{INDENT}Judges:")
        for opinion in record.opinions:
            lines += _opinion_lines(opinion)
    if record.overrides:
        lines.append(f"{INDENT}Overrides:")
        for override in record.overrides:
            lines += _wrapped(override, INDENT + "  - ", INDENT + "    ")
    return lines


def _decision_heading(record: DecisionRecord, slices: Sequence[int]) -> str:
    parts = [record.time, record.action.upper()]
    if record.slice is not None:
        parts.append(f"slice {record.slice + 1}/{len(slices) or '?'} at {record.weight}%")
    if record.window is not None:
        parts.append(f"window {record.window}")
    if record.revision:
        parts.append(f"revision {record.revision}")
    if record.key:
        parts.append(f"[{record.key}]")
    return "  ".join(parts)


def _metric_lines(metric: MetricRecord) -> list[str]:
    canary = f"canary {number(metric.canary_value)} (n={number(metric.canary_n)})"
    stable = f"stable {number(metric.stable_value)} (n={number(metric.stable_n)})"
    lines = [f"{INDENT}  {metric.name} [{metric.kind}]: {canary} vs {stable}"]
    for label, check in (("bound", metric.bound), ("compare", metric.comparison)):
        if check is not None:
            lines += _wrapped(_check_text(label, check), INDENT + "    ", INDENT + "      ")
    return lines


def _check_text(label: str, check: CheckRecord) -> str:
    figures = [
        f"{name} {number(value)}"
        for name, value in (
            ("statistic", check.statistic),
            ("threshold", check.threshold),
        )
        if value is not None
    ]
    if check.evidence is not None:
        figures.append(f"evidence {_evidence(check.evidence)}")
    measured = f" ({', '.join(figures)})" if figures else ""
    message = f": {check.message}" if check.message else ""
    return f"{label} {check.test} → {check.outcome}{measured}{message}"


def _opinion_lines(opinion: OpinionRecord) -> list[str]:
    said = opinion.action or "no usable answer"
    details = [
        detail
        for detail in (
            opinion.model,
            f"{opinion.latency_seconds:.2f}s" if opinion.latency_seconds is not None else None,
            _tokens(opinion),
        )
        if detail
    ]
    about = f" ({', '.join(details)})" if details else ""
    lines = [f"{INDENT}  {opinion.judge}{about}: {said}"]
    if opinion.error:
        lines += _wrapped(f"error: {opinion.error}", INDENT + "    ")
    if opinion.reasoning:
        lines += _wrapped(opinion.reasoning, INDENT + "    ")
    return lines


def _tokens(opinion: OpinionRecord) -> str | None:
    if opinion.prompt_tokens is None and opinion.completion_tokens is None:
        return None
    prompt = opinion.prompt_tokens if opinion.prompt_tokens is not None else "?"
    completion = opinion.completion_tokens if opinion.completion_tokens is not None else "?"
    return f"{prompt} prompt + {completion} completion tokens"


def _evidence(value: float) -> str:
    """An e-value; the judge's cap stands for "larger than can be shown", so it says so."""
    return "beyond 10^300" if value >= EVALUE_CAP else number(value)


def number(value: float | None) -> str:
    """Short, exact enough to compare with a bound; whole counts without a decimal point."""
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def _wrapped(text: str, first: str, rest: str | None = None) -> list[str]:
    """Paragraphs kept apart, each filled to the width, so long reasoning stays readable."""
    lines: list[str] = []
    for paragraph in _paragraphs(text):
        lines += textwrap.wrap(
            paragraph,
            width=WIDTH,
            initial_indent=first if not lines else (rest or first),
            subsequent_indent=rest or first,
        ) or [first.rstrip()]
    return lines


def _paragraphs(text: str) -> Iterable[str]:
    return (part.strip() for part in text.strip().split("\n\n") if part.strip())
