"""The LLM advisor: a second opinion on a plan, which may only widen it.

An LLM cannot know which tests cover a line; the index can. So the advisor sees a bounded
summary of the change and the plan, and may add tests the index knows or raise the risk
tier (which escalates as the default rules do: medium runs the tests beside the changed
files, high the full suite). It never removes a test or lowers the tier. Whatever it
answers that is not such a widening is ignored and said so in `Advice.note`; an answer
that cannot be read leaves the plan exactly as the index made it.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airollout.core.selection.diff import FileChange
from airollout.core.selection.index import Index
from airollout.core.selection.plan import UNKNOWN_TEST_SECONDS, Plan, Sizing
from airollout.core.selection.rules import RISKS
from airollout.core.selection.shards import balance, shard_count

MAX_FILES = 100  # files of the change shown; the rest are counted
MAX_CANDIDATES = 200  # node ids offered beyond the plan, nearest to the change first
MAX_PLAN_TESTS = 200
NOTE_MAX_CHARS = 500
_SHARDS_SENTENCE = re.compile(r"(?:; )?\d+ shards, the longest about [\d.]+s$")
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)

ADVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "add_tests": {"type": "array", "items": {"type": "string"}},
        "risk_tier": {"type": ["string", "null"], "enum": [*RISKS, None]},
        "note": {"type": "string"},
    },
    "required": ["add_tests", "risk_tier", "note"],
    "additionalProperties": False,
}

SYSTEM_PROMPT = """\
You review a test plan for a code change. A change-impact index chose the plan from \
per-test line coverage, so every test it chose stays. You may only WIDEN the plan: add \
tests from `candidates` (exact node ids) that could catch a regression the coverage \
cannot see (behaviour through configuration, data, concurrency, external contracts), \
and raise `risk_tier` when the change is riskier than the plan says. You cannot remove \
tests or lower the tier. Add nothing when the plan already suffices.
Answer with ONE JSON object and nothing else:
{"add_tests": ["<node id>", ...], "risk_tier": "low" | "medium" | "high" | null, \
"note": "<one short sentence: why>"}"""


class AdviceError(ValueError):
    """The advisor's content is not one readable answer object."""


@dataclasses.dataclass(frozen=True)
class Advice:
    """What the advisor did to the plan: the `advisor` key of the plan's JSON."""

    used: bool
    added: tuple[str, ...] = ()
    raised_tier: str | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "used": self.used,
            "added": list(self.added),
            "raised_tier": self.raised_tier,
            "note": self.note,
        }


def diff_summary(changes: Sequence[FileChange], limit: int = MAX_FILES) -> dict[str, Any]:
    """Per file: status, lines removed, insertion points and hunks; never file contents."""
    files = [
        {
            "path": change.path,
            **({"old_path": change.old_path} if change.old_path != change.path else {}),
            "status": change.status,
            "lines_removed": len(change.removed),
            "insertions": len(change.inserted_after),
            "hunks": _hunks(change),
        }
        for change in changes[:limit]
    ]
    return {"files": files, "files_not_shown": max(0, len(changes) - limit)}


def _hunks(change: FileChange) -> int:
    """Runs of adjacent removed lines, plus pure insertions: the diff's hunks, near enough."""
    removed = sorted(change.removed)
    runs = sum(1 for n, line in enumerate(removed) if n == 0 or removed[n - 1] != line - 1)
    return runs + len(change.inserted_after - change.removed)


def candidates(
    index: Index, plan: Plan, changes: Sequence[FileChange], limit: int = MAX_CANDIDATES
) -> list[str]:
    """Known tests outside the plan, those nearest the changed files first."""
    chosen = set(plan.tests)
    folders = {posixpath.dirname(c.path) for c in changes} | {
        posixpath.dirname(c.old_path) for c in changes
    }
    stems = {_stem(c.path) for c in changes} | {_stem(c.old_path) for c in changes}

    def distance(node_id: str) -> tuple[int, int, str]:
        path = node_id.split("::", 1)[0]
        named = any(stem and stem in posixpath.basename(path) for stem in stems)
        shared = max((_shared_folders(posixpath.dirname(path), f) for f in folders), default=0)
        return (0 if named else 1, -shared, node_id)

    outside = (node_id for node_id in index.tests if node_id not in chosen)
    return sorted(outside, key=distance)[:limit]


def _shared_folders(one: str, other: str) -> int:
    """How many leading folders two paths have in common."""
    count = 0
    for a, b in zip(one.split("/"), other.split("/"), strict=False):
        if a != b or not a:
            break
        count += 1
    return count


def _stem(path: str) -> str:
    name = posixpath.splitext(posixpath.basename(path))[0]
    return name.removeprefix("test_").removesuffix("_test")


def advisor_messages(
    plan: Plan, changes: Sequence[FileChange], index: Index
) -> list[dict[str, str]]:
    shown = list(plan.tests[:MAX_PLAN_TESTS])
    facts = {
        "change": diff_summary(changes),
        "plan": {
            "full_suite": plan.full_suite,
            "risk_tier": plan.risk_tier,
            "tests": shown,
            "tests_not_shown": len(plan.tests) - len(shown),
            "reasoning": plan.reasoning,
        },
        "candidates": [] if plan.full_suite else candidates(index, plan, changes),
    }
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": json.dumps(facts, indent=1)},
    ]


def read_advice(content: str) -> Mapping[str, Any]:
    """The answer object in `content`: plain JSON, or the first object in prose or a fence."""
    text = content.strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        match = _JSON_OBJECT.search(text)
        try:
            data = json.loads(match.group(0)) if match else None
        except json.JSONDecodeError:
            data = None
        if data is None:
            raise AdviceError("malformed answer: no JSON object in the content") from None
    if not isinstance(data, dict):
        raise AdviceError("malformed answer: not a JSON object")
    added = data.get("add_tests", [])
    if not isinstance(added, list) or not all(isinstance(t, str) for t in added):
        raise AdviceError("answer.add_tests: must be a list of node ids")
    tier = data.get("risk_tier")
    if tier is not None and tier not in RISKS:
        raise AdviceError(f"answer.risk_tier: must be one of {', '.join(RISKS)} or null")
    return data


def unused(plan: Plan, why: str) -> tuple[Plan, Advice]:
    """The index's plan as it is, saying why the advisor had no say."""
    note = f"advisor not used: {why}"[:NOTE_MAX_CHARS]
    return _with_reason(plan, note), Advice(used=False, note=note)


def merge(
    plan: Plan,
    answer: Mapping[str, Any],
    index: Index,
    changes: Sequence[FileChange],
    sizing: Sizing | None = None,
) -> tuple[Plan, Advice]:
    """The plan widened by what of `answer` may widen it; the rest is named and ignored."""
    ignored: list[str] = []
    chosen = set(plan.tests)
    asked = list(dict.fromkeys(answer.get("add_tests") or []))
    unknown = [t for t in asked if t not in index.tests]
    if unknown:
        ignored.append(f"{len(unknown)} unknown node ids ignored ({', '.join(unknown[:3])})")
    added = [t for t in asked if t in index.tests and t not in chosen]
    removals = _removals(answer, chosen)
    if removals:
        ignored.append(f"asked to remove {removals} tests: ignored, the advisor only widens")
    tier, raised = _raised_tier(plan.risk_tier, answer.get("risk_tier"), ignored)
    full_suite = plan.full_suite or tier == "high"
    if raised == "high":
        added += sorted(set(index.tests) - chosen - set(added))
    elif raised == "medium":
        added += sorted(_beside(index, changes) - chosen - set(added))
    said = str(answer.get("note") or "").strip()
    note = "; ".join([f"advisor: {_did(added, raised)}", *([said] if said else []), *ignored])
    note = note[:NOTE_MAX_CHARS]
    widened = _resharded(plan, added, index, sizing or Sizing()) if added else plan
    widened = dataclasses.replace(widened, full_suite=full_suite, risk_tier=tier)
    advice = Advice(used=True, added=tuple(added), raised_tier=raised, note=note)
    return _with_reason(widened, note), advice


def _removals(answer: Mapping[str, Any], chosen: set[str]) -> int:
    """How many planned tests the answer tried to drop, whatever key it used for that."""
    count = 0
    for key in ("remove_tests", "drop_tests", "removed_tests", "skip_tests"):
        value = answer.get(key)
        if isinstance(value, list):
            count += sum(1 for t in value if t in chosen)
    return count


def _raised_tier(current: str, asked: Any, ignored: list[str]) -> tuple[str, str | None]:
    if asked is None or asked == current:
        return current, None
    if RISKS.index(asked) < RISKS.index(current):
        ignored.append(f"asked to lower the risk to {asked}: ignored")
        return current, None
    return str(asked), str(asked)


def _did(added: Sequence[str], raised: str | None) -> str:
    parts = [f"+{len(added)} tests"] if added else []
    if raised:
        parts.append(f"risk raised to {raised}")
    return ", ".join(parts) or "no change"


def _beside(index: Index, changes: Iterable[FileChange]) -> set[str]:
    """Tests under the nearest folder of each changed file that holds any."""
    found: set[str] = set()
    for change in changes:
        folder = posixpath.dirname(change.path)
        while folder:
            near = {t for t in index.tests if t.startswith(f"{folder}/")}
            if near:
                found |= near
                break
            folder = posixpath.dirname(folder)
    return found


def _resharded(plan: Plan, added: Sequence[str], index: Index, sizing: Sizing) -> Plan:
    """The plan's order kept, the added tests after it, shards balanced again."""
    known = [t.duration for t in index.tests.values() if t.duration > 0]
    fallback = statistics.median(known) if known else UNKNOWN_TEST_SECONDS
    order = [*plan.tests, *added]
    seconds = {t: index.tests[t].duration if t in index.tests else fallback for t in order}
    total = sum(seconds.values())
    count = shard_count(total, len(order), sizing.target_seconds, sizing.max_parallel)
    shards = balance(order, seconds, count)
    reasoning = _SHARDS_SENTENCE.sub("", plan.reasoning)
    if shards:
        longest = max(sum(seconds[t] for t in shard) for shard in shards)
        sentence = f"{len(shards)} shards, the longest about {longest:.1f}s"
        reasoning = f"{reasoning}; {sentence}" if reasoning else sentence
    return dataclasses.replace(
        plan,
        tests=tuple(order),
        estimated_seconds=total,
        shards=tuple(tuple(shard) for shard in shards),
        reasoning=reasoning,
    )


def _with_reason(plan: Plan, note: str) -> Plan:
    reasoning = f"{plan.reasoning}; {note}" if plan.reasoning else note
    return dataclasses.replace(plan, reasoning=reasoning)
