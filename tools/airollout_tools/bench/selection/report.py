"""The benchmark's figures per strategy: faulty changes caught, failing tests selected, share
of the test time run, and planning time; as a table or as JSON with the same keys."""

from __future__ import annotations

import collections
from typing import Any

from airollout_tools.bench.selection.run import STRATEGIES, BenchResult, MutantResult

CAUGHT_TARGET = 0.99
TIME_SHARE_TARGET = 0.30


def strategy_figures(mutants: list[MutantResult], strategy: str) -> dict[str, Any]:
    choices = [m.choices[strategy] for m in mutants]
    caught = sum(choice.caught(m.truth) for m, choice in zip(mutants, choices, strict=True))
    failing = sum(len(m.truth) for m in mutants)
    selected = sum(len(c.selected & m.truth) for m, c in zip(mutants, choices, strict=True))
    full = sum(m.full_seconds for m in mutants)
    return {
        "faulty_changes": len(mutants),
        "caught": caught,
        "caught_share": _share(caught, len(mutants)),
        "failing_tests": failing,
        "failing_tests_selected": selected,
        "recall": _share(selected, failing),
        "full_suite_plans": sum(c.full_suite for c in choices),
        "test_seconds": round(sum(c.seconds for c in choices), 3),
        "full_suite_seconds": round(full, 3),
        "time_share": _share(sum(c.seconds for c in choices), full),
        "plan_seconds_mean": round(sum(c.plan_seconds for c in choices) / len(choices), 4)
        if choices
        else None,
    }


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def report_json(result: BenchResult) -> dict[str, Any]:
    strategies = {name: strategy_figures(result.mutants, name) for name in STRATEGIES}
    return {
        "index": {
            "revision": result.index_revision,
            "build_seconds": round(result.index_build_seconds, 3),
            "tests": result.index_tests,
        },
        "commits": result.commits,
        "strategies": strategies,
        "targets": {
            "caught_share": CAUGHT_TARGET,
            "time_share": TIME_SHARE_TARGET,
            "met": _met(strategies[STRATEGIES[0]]),
        },
        "mutants": [
            {
                "commit": m.commit,
                "mutant": m.mutant.label,
                "truth": sorted(m.truth),
                "strategies": {
                    name: {
                        "selected": len(choice.selected),
                        "full_suite": choice.full_suite,
                        "caught": choice.caught(m.truth),
                        "failing_selected": len(choice.selected & m.truth),
                        "time_share": _share(choice.seconds, m.full_seconds),
                    }
                    for name, choice in m.choices.items()
                },
            }
            for m in result.mutants
        ],
        "skipped": result.skipped,
    }


def _met(figures: dict[str, Any]) -> bool:
    caught, share = figures["caught_share"], figures["time_share"]
    return caught is not None and caught >= CAUGHT_TARGET and share <= TIME_SHARE_TARGET


def render_table(result: BenchResult) -> str:
    document = report_json(result)
    rows = [("strategy", "caught", "failing tests selected", "test time run", "plan time")]
    for name, f in document["strategies"].items():
        rows.append(
            (
                name,
                f"{f['caught']}/{f['faulty_changes']} {_percent(f['caught_share'])}",
                f"{f['failing_tests_selected']}/{f['failing_tests']} {_percent(f['recall'])}",
                _percent(f["time_share"]),
                "-"
                if f["plan_seconds_mean"] is None
                else f"{f['plan_seconds_mean'] * 1000:.0f} ms",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        f"{len(result.mutants)} faulty changes from {len(result.commits)} commits; index at "
        f"{result.index_revision[:12]} ({result.index_tests} tests), built in "
        f"{result.index_build_seconds:.1f}s",
        *(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ),
        f"target: >= {CAUGHT_TARGET:.0%} caught at <= {TIME_SHARE_TARGET:.0%} of the test time: "
        + ("met" if document["targets"]["met"] else "not met"),
    ]
    reasons = collections.Counter(skip["reason"] for skip in result.skipped)
    if reasons:
        lines.append("skipped: " + ", ".join(f"{n} {why}" for why, n in reasons.most_common()))
    return "\n".join(lines)


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"
