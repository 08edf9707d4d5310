"""How `airollout promotion score` shows its result: text, one compact JSON line, Markdown."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from airollout.core.promotion.model import FEATURE_SIGNAL, Score
from airollout.core.promotion.tiers import Decision, Thresholds, decide

if TYPE_CHECKING:  # the LLM client takes a second to import; only --llm-endpoint needs it
    from airollout.adapters.llm.promotion_narrative import Narration

# A container's termination message holds 4 KiB; the line leaves room for the kubelet's own.
MAX_LINE_BYTES = 3 * 1024
SHOWN_BLOCKS = 3


@dataclasses.dataclass(frozen=True)
class Result:
    score: Score
    decision: Decision
    blocks: tuple[str, ...]
    signals: Mapping[str, Any]  # v1
    model: str  # the model's version
    thresholds: Thresholds
    notes: tuple[str, ...] = ()  # what was read
    narrative: str | None = None  # the LLM's, when one was asked
    recommendations: tuple[str, ...] = ()
    llm: str | None = None  # what the LLM did to the score, or why it did nothing
    lowered_to: float | None = None  # the LLM's cap, where it lowered the model's score

    @property
    def probability(self) -> float:
        return self.score.probability if self.lowered_to is None else self.lowered_to


def with_narration(result: Result, narration: Narration) -> Result:
    """The result after the LLM: lowered where it capped the score, never raised."""
    model_score = result.score.probability
    if narration.error is not None:
        return dataclasses.replace(
            result, llm=f"no usable answer ({narration.error}); the score stands"
        )
    lowered = narration.lowered(model_score)
    changes: dict[str, Any] = {
        "narrative": narration.narrative,
        "recommendations": narration.recommendations,
    }
    if lowered < model_score:
        changes["lowered_to"] = lowered
        changes["decision"] = decide(lowered, result.blocks, result.thresholds)
        changes["llm"] = f"lowered the score from {model_score:.3f} to {lowered:.3f}"
    else:
        changes["llm"] = "wrote the narrative; the score stands (it may lower it, never raise it)"
    return dataclasses.replace(result, **changes)


def compact_json(result: Result) -> str:
    """The one-line report (contracts: score, decision, blocks, signals, contributions, model),
    at most MAX_LINE_BYTES: the details go first when it is too long, never the decision."""
    document = report_document(result)
    for shrink in _SHRINKS:
        line = json.dumps(document, separators=(",", ":"))
        if len(line.encode()) <= MAX_LINE_BYTES:
            return line
        document = shrink(document)
    return json.dumps(document, separators=(",", ":"))


def report_document(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = {
        "score": round(result.probability, 4),
        "decision": str(result.decision),
        "blocks": list(result.blocks),
        "signals": dict(result.signals),
        "contributions": [
            {"feature": c.feature, "logit": round(c.logit, 3)} for c in result.score.contributions
        ],
        "model": result.model,
        "missing": list(result.score.missing),
    }
    if result.lowered_to is not None:
        document["model_score"] = round(result.score.probability, 4)
    if result.llm is not None:
        document["llm"] = result.llm
    return document


def _without_lists(document: dict[str, Any]) -> dict[str, Any]:
    signals = {
        key: {k: v for k, v in value.items() if not isinstance(v, list)}
        if isinstance(value, dict)
        else value
        for key, value in document["signals"].items()
    }
    return {**document, "signals": signals}


def _large_contributions(document: dict[str, Any]) -> dict[str, Any]:
    kept = [c for c in document["contributions"] if abs(c["logit"]) >= 0.01]
    return {**document, "contributions": kept}


def _few_blocks(document: dict[str, Any]) -> dict[str, Any]:
    blocks = [block[:200] for block in document["blocks"][:SHOWN_BLOCKS]]
    if len(document["blocks"]) > SHOWN_BLOCKS:
        blocks.append(f"and {len(document['blocks']) - SHOWN_BLOCKS} more")
    shorter = {**document, "blocks": blocks}
    if "llm" in document:
        shorter["llm"] = document["llm"][:200]
    return shorter


def _essentials(document: dict[str, Any]) -> dict[str, Any]:
    keep = ("score", "decision", "blocks", "model")
    return {key: document[key] for key in keep}


_SHRINKS: tuple[Callable[[dict[str, Any]], dict[str, Any]], ...] = (
    _without_lists,
    _large_contributions,
    _few_blocks,
    _essentials,
)


def text(result: Result) -> str:
    thresholds = result.thresholds
    lines = [
        f"Promotion score {result.probability:.3f} (model {result.model}): {result.decision}",
        f"  tiers: auto-promote at {thresholds.auto_promote:g} or more, manual review from"
        f" {thresholds.manual_review:g}, block below",
    ]
    lines += [f"  BLOCKED: {block}" for block in result.blocks]
    if result.llm:
        lines.append(f"  LLM: {result.llm}")
    lines.append("  contributions to the logit:")
    lines += [
        f"    {c.feature:<24} {c.value:>9.3f} x {c.weight:>+8.3f} = {c.logit + 0.0:>+7.3f}"
        for c in result.score.contributions
    ]
    if result.score.missing:
        lines.append(f"  missing signals (contribute 0): {', '.join(result.score.missing)}")
    if result.notes:
        lines.append("  read:")
        lines += [f"    {note}" for note in result.notes]
    lines += _narrative(result)
    return "\n".join(lines) + "\n"


def _narrative(result: Result) -> list[str]:
    if not result.narrative:
        return []
    lines = ["", result.narrative]
    if result.recommendations:
        lines += ["", "Recommendations:"] + [f"- {item}" for item in result.recommendations]
    return lines


def markdown(result: Result) -> str:
    icon = {"auto-promote": "✅", "manual-review": "👀", "block": "⛔"}[str(result.decision)]
    lines = [
        f"### {icon} Promotion score {result.probability:.3f}: **{result.decision}**",
        "",
        f"Model `{result.model}`; auto-promote at {result.thresholds.auto_promote:g} or more,"
        f" manual review from {result.thresholds.manual_review:g}, block below.",
    ]
    if result.blocks:
        lines += ["", "**Hard blocks** (they stand whatever the score says):", ""]
        lines += [f"- {_cell(block)}" for block in result.blocks]
    if result.llm:
        lines += ["", f"LLM: {_cell(result.llm)}"]
    lines += ["", "| Feature | Signal | Value | Weight | Logit |", "|---|---|---:|---:|---:|"]
    lines += [
        f"| {c.feature} | {FEATURE_SIGNAL.get(c.feature, '-')} | {c.value:.3f} |"
        f" {c.weight:+.3f} | {c.logit + 0.0:+.3f} |"
        for c in result.score.contributions
    ]
    if result.score.missing:
        lines += ["", f"Missing signals (contribute 0): {', '.join(result.score.missing)}."]
    if result.notes:
        lines += ["", "<details><summary>What was read</summary>", ""]
        lines += [f"- {_cell(note)}" for note in result.notes]
        lines += ["", "</details>"]
    lines += _narrative(result)
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")
