"""How `airollout promotion score` shows its result: text, one compact JSON line, Markdown."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any

from airollout.core.promotion.model import FEATURE_SIGNAL, Score
from airollout.core.promotion.tiers import Decision, Thresholds

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
    llm: str | None = None  # what the LLM did to the score, or why it did nothing

    @property
    def probability(self) -> float:
        return self.score.probability


def compact_json(result: Result) -> str:
    """The one-line report (contracts: score, decision, blocks, signals, contributions, model),
    at most MAX_LINE_BYTES: the details go first when it is too long, never the decision."""
    document = _document(result)
    for shrink in _SHRINKS:
        line = json.dumps(document, separators=(",", ":"))
        if len(line.encode()) <= MAX_LINE_BYTES:
            return line
        document = shrink(document)
    return json.dumps(document, separators=(",", ":"))


def _document(result: Result) -> dict[str, Any]:
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
    if result.narrative:
        lines += ["", result.narrative]
    return "\n".join(lines) + "\n"


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
    if result.narrative:
        lines += ["", result.narrative]
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")
