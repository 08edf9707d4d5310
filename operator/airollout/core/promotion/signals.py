"""Signals, format v1: what the report parsers found about one artifact, as plain values.

Every signal is optional: a build without benchmarks simply has no `benchmarks`. Inside a
signal the counts default to 0 and the measurements (ratios, rates, sizes) to unknown, so a
parser writes only what its report says. Keys the model does not know (`vulnerabilities.new`,
`production.latency_p99_s`, ...) are kept in `extra` and written back unchanged; an unknown
top-level key is an error, because a misspelt signal would otherwise silently count as
missing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

RISK_TIERS = ("low", "medium", "high")
SIGNAL_KEYS = (
    "tests",
    "coverage_delta",
    "benchmarks",
    "vulnerabilities",
    "dependencies",
    "change",
    "production",
    "history",
)


class SignalsError(ValueError):
    """Malformed signals; the message starts with the field, e.g. `signals.tests.failed`."""


def _extra() -> Mapping[str, Any]:
    return {}


@dataclasses.dataclass(frozen=True)
class TestSignal:
    __test__ = False  # a signal, not a pytest test class

    total: int = 0
    failed: int = 0
    skipped: int = 0
    extra: Mapping[str, Any] = dataclasses.field(default_factory=_extra, hash=False)


@dataclasses.dataclass(frozen=True)
class BenchmarkSignal:
    regressions: int = 0
    worst_ratio: float | None = None  # slowest benchmark's time / baseline's; 1.0 = same
    extra: Mapping[str, Any] = dataclasses.field(default_factory=_extra, hash=False)


@dataclasses.dataclass(frozen=True)
class VulnerabilitySignal:
    critical: int = 0
    high: int = 0
    medium: int = 0
    fixable_critical: int = 0  # critical findings with a fixed version available
    extra: Mapping[str, Any] = dataclasses.field(default_factory=_extra, hash=False)


@dataclasses.dataclass(frozen=True)
class DependencySignal:
    added: int = 0
    updated: int = 0
    removed: int = 0
    extra: Mapping[str, Any] = dataclasses.field(default_factory=_extra, hash=False)


@dataclasses.dataclass(frozen=True)
class ChangeSignal:
    files: int | None = None
    lines: int | None = None
    risk_tier: str | None = None  # the selection plan's tier: low, medium, high
    extra: Mapping[str, Any] = dataclasses.field(default_factory=_extra, hash=False)


@dataclasses.dataclass(frozen=True)
class ProductionSignal:
    error_rate: float | None = None  # the service's current share of failed requests
    alerts_firing: int = 0
    error_rate_bound: float | None = None  # the service's bound; the model assumes 1 % without
    extra: Mapping[str, Any] = dataclasses.field(default_factory=_extra, hash=False)


@dataclasses.dataclass(frozen=True)
class HistorySignal:
    rollouts: int = 0  # this service's past rollouts with a known outcome
    incidents: int = 0
    extra: Mapping[str, Any] = dataclasses.field(default_factory=_extra, hash=False)


@dataclasses.dataclass(frozen=True)
class Signals:
    tests: TestSignal | None = None
    coverage_delta: float | None = None  # percentage points against the baseline; < 0 = drop
    benchmarks: BenchmarkSignal | None = None
    vulnerabilities: VulnerabilitySignal | None = None
    dependencies: DependencySignal | None = None
    change: ChangeSignal | None = None
    production: ProductionSignal | None = None
    history: HistorySignal | None = None

    def missing(self) -> tuple[str, ...]:
        return tuple(key for key in SIGNAL_KEYS if getattr(self, key) is None)


def signals_from_json(obj: Mapping[str, Any]) -> Signals:
    """Signals from their v1 JSON object; SignalsError names the first bad field."""
    if not isinstance(obj, Mapping):
        raise SignalsError("signals: must be an object")
    unknown = sorted(set(obj) - set(SIGNAL_KEYS))
    if unknown:
        raise SignalsError(
            f"signals.{unknown[0]}: unknown signal (known: {', '.join(SIGNAL_KEYS)})"
        )
    coverage = obj.get("coverage_delta")
    return Signals(
        tests=_tests(obj["tests"]) if "tests" in obj else None,
        coverage_delta=None if coverage is None else _number(coverage, "signals.coverage_delta"),
        benchmarks=_benchmarks(obj["benchmarks"]) if "benchmarks" in obj else None,
        vulnerabilities=(
            _vulnerabilities(obj["vulnerabilities"]) if "vulnerabilities" in obj else None
        ),
        dependencies=_dependencies(obj["dependencies"]) if "dependencies" in obj else None,
        change=_change(obj["change"]) if "change" in obj else None,
        production=_production(obj["production"]) if "production" in obj else None,
        history=_history(obj["history"]) if "history" in obj else None,
    )


def signals_to_json(s: Signals) -> dict[str, Any]:
    """The v1 JSON object: only the signals present, unknown measurements left out."""
    out: dict[str, Any] = {}
    for key in SIGNAL_KEYS:
        value = getattr(s, key)
        if value is None:
            continue
        if key == "coverage_delta":
            out[key] = value
            continue
        fields = {
            f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name != "extra"
        }
        out[key] = {**value.extra, **{k: v for k, v in fields.items() if v is not None}}
    return out


def _tests(raw: Any) -> TestSignal:
    where = "signals.tests"
    fields = _object(raw, where, known=("total", "failed", "skipped"))
    total = _count(fields, "total", where)
    failed = _count(fields, "failed", where)
    if failed > total and "total" in fields:
        raise SignalsError(f"{where}.failed: {failed} is more than {where}.total ({total})")
    total = max(total, failed)
    return TestSignal(
        total=total,
        failed=failed,
        skipped=_count(fields, "skipped", where),
        extra=_rest(fields, ("total", "failed", "skipped")),
    )


def _benchmarks(raw: Any) -> BenchmarkSignal:
    where = "signals.benchmarks"
    fields = _object(raw, where, known=("regressions", "worst_ratio"))
    ratio = fields.get("worst_ratio")
    if ratio is not None:
        ratio = _number(ratio, f"{where}.worst_ratio")
        if ratio <= 0:
            raise SignalsError(f"{where}.worst_ratio: must be a number > 0")
    return BenchmarkSignal(
        regressions=_count(fields, "regressions", where),
        worst_ratio=ratio,
        extra=_rest(fields, ("regressions", "worst_ratio")),
    )


def _vulnerabilities(raw: Any) -> VulnerabilitySignal:
    where = "signals.vulnerabilities"
    names = ("critical", "high", "medium", "fixable_critical")
    fields = _object(raw, where, known=names)
    counts = {name: _count(fields, name, where) for name in names}
    if counts["fixable_critical"] > counts["critical"] and "critical" in fields:
        raise SignalsError(
            f"{where}.fixable_critical: {counts['fixable_critical']} is more than "
            f"{where}.critical ({counts['critical']})"
        )
    counts["critical"] = max(counts["critical"], counts["fixable_critical"])
    return VulnerabilitySignal(**counts, extra=_rest(fields, names))


def _dependencies(raw: Any) -> DependencySignal:
    where = "signals.dependencies"
    names = ("added", "updated", "removed")
    fields = _object(raw, where, known=names)
    counts = {name: _count(fields, name, where) for name in names}
    return DependencySignal(**counts, extra=_rest(fields, names))


def _change(raw: Any) -> ChangeSignal:
    where = "signals.change"
    names = ("files", "lines", "risk_tier")
    fields = _object(raw, where, known=names)
    tier = fields.get("risk_tier")
    if tier is not None and tier not in RISK_TIERS:
        raise SignalsError(f"{where}.risk_tier: must be one of {', '.join(RISK_TIERS)}")
    return ChangeSignal(
        files=_count(fields, "files", where) if "files" in fields else None,
        lines=_count(fields, "lines", where) if "lines" in fields else None,
        risk_tier=tier,
        extra=_rest(fields, names),
    )


def _production(raw: Any) -> ProductionSignal:
    where = "signals.production"
    names = ("error_rate", "alerts_firing", "error_rate_bound")
    fields = _object(raw, where, known=names)
    rate = fields.get("error_rate")
    bound = fields.get("error_rate_bound")
    if rate is not None:
        rate = _share(rate, f"{where}.error_rate")
    if bound is not None:
        bound = _share(bound, f"{where}.error_rate_bound")
        if bound == 0:
            raise SignalsError(f"{where}.error_rate_bound: must be a number in (0, 1]")
    return ProductionSignal(
        error_rate=rate,
        alerts_firing=_count(fields, "alerts_firing", where),
        error_rate_bound=bound,
        extra=_rest(fields, names),
    )


def _history(raw: Any) -> HistorySignal:
    where = "signals.history"
    fields = _object(raw, where, known=("rollouts", "incidents"))
    rollouts = _count(fields, "rollouts", where)
    incidents = _count(fields, "incidents", where)
    if incidents > rollouts:
        raise SignalsError(
            f"{where}.incidents: {incidents} is more than {where}.rollouts ({rollouts})"
        )
    return HistorySignal(
        rollouts=rollouts, incidents=incidents, extra=_rest(fields, ("rollouts", "incidents"))
    )


def _object(raw: Any, where: str, known: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise SignalsError(f"{where}: must be an object with any of {', '.join(known)}")
    return raw


def _rest(fields: Mapping[str, Any], known: tuple[str, ...]) -> Mapping[str, Any]:
    return {key: value for key, value in fields.items() if key not in known}


def _count(fields: Mapping[str, Any], name: str, where: str) -> int:
    value = fields.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SignalsError(f"{where}.{name}: must be an integer >= 0")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SignalsError(f"{where}: must be a finite number")
    return float(value)


def _share(value: Any, where: str) -> float:
    number = _number(value, where)
    if not 0.0 <= number <= 1.0:
        raise SignalsError(f"{where}: must be a number in [0, 1]")
    return number
