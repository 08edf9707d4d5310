"""Hard blocks: findings that stop a promotion whatever the score says.

Defaults: any failed test, and any critical vulnerability with a fix available (the fix is
one upgrade away, so shipping it unfixed is a choice nobody should make by score). Each
rule is a maximum; None switches it off.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from airollout.core.promotion.signals import RISK_TIERS, Signals


class BlockRulesError(ValueError):
    """A malformed block-rules document; the message names the field."""


@dataclasses.dataclass(frozen=True)
class BlockRules:
    max_failed_tests: int | None = 0
    max_fixable_critical: int | None = 0
    max_critical: int | None = None
    max_benchmark_regressions: int | None = None
    max_alerts_firing: int | None = None
    risk_tiers: tuple[str, ...] = ()  # change risk tiers that block outright

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "risk_tiers":
                bad = [tier for tier in value if tier not in RISK_TIERS]
                if bad:
                    raise BlockRulesError(
                        f"blocks.risk_tiers: {bad[0]!r} is not one of {', '.join(RISK_TIERS)}"
                    )
            elif value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise BlockRulesError(f"blocks.{field.name}: must be an integer >= 0 or null")

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> BlockRules:
        if not isinstance(obj, Mapping):
            raise BlockRulesError("blocks: must be an object")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise BlockRulesError(f"blocks.{unknown[0]}: unknown rule")
        values = dict(obj)
        if "risk_tiers" in values:
            tiers = values["risk_tiers"]
            if not isinstance(tiers, list | tuple):
                raise BlockRulesError("blocks.risk_tiers: must be a list of tiers")
            values["risk_tiers"] = tuple(tiers)
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["risk_tiers"] = list(self.risk_tiers)
        return out


def hard_blocks(s: Signals, rules: BlockRules = BlockRules()) -> tuple[str, ...]:
    """The reasons this artifact may not be promoted, in words; empty when none apply."""
    reasons: list[str] = []
    if s.tests is not None and _over(s.tests.failed, rules.max_failed_tests):
        reasons.append(f"{s.tests.failed} of {s.tests.total} tests failed")
    vulns = s.vulnerabilities
    if vulns is not None and _over(vulns.fixable_critical, rules.max_fixable_critical):
        reasons.append(f"{_criticals(vulns.fixable_critical)} with a fix available")
    if vulns is not None and _over(vulns.critical, rules.max_critical):
        reasons.append(f"{_criticals(vulns.critical)} (at most {rules.max_critical} allowed)")
    bench = s.benchmarks
    if bench is not None and _over(bench.regressions, rules.max_benchmark_regressions):
        reasons.append(
            f"{_plural(bench.regressions, 'benchmark', 'benchmarks')} regressed"
            f" (at most {rules.max_benchmark_regressions} allowed)"
        )
    prod = s.production
    if prod is not None and _over(prod.alerts_firing, rules.max_alerts_firing):
        reasons.append(
            f"{_plural(prod.alerts_firing, 'alert', 'alerts')} firing in production"
            f" (at most {rules.max_alerts_firing} allowed)"
        )
    if s.change is not None and s.change.risk_tier in rules.risk_tiers:
        reasons.append(f"the change's risk tier is {s.change.risk_tier}")
    return tuple(reasons)


def _over(count: int, limit: int | None) -> bool:
    return limit is not None and count > limit


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _criticals(count: int) -> str:
    return _plural(count, "critical vulnerability", "critical vulnerabilities")
