"""Synthetic artifact histories for `airollout bench promotion`, from a documented hidden model.

The hidden model is deliberately NOT the scoring model's form (a logistic in smooth
features), so a good benchmark figure cannot come from the scorer matching its generator:

    logit P(incident) = base[service]
        + 2.0   if any test failed
        + 1.4   if coverage dropped by more than 1 point, times 1.5 on a high-tier change
                and 0.6 otherwise (an interaction)
        + 0.9 * min(benchmark regressions, 2)
        + 1.2   if the worst benchmark ratio is above 1.15 (a threshold, not a slope)
        + 1.0   if any critical vulnerability, + 0.25 * min(high, 4)
        + 0.7   if more than 800 lines changed, + 0.5 on a high-tier change
        + 0.4 * min(max(dependency changes - 3, 0), 4)
        + 1.3   if the production error rate is above 0.8 %, + 1.5 if an alert fires

Service base rates (logits): checkout -3.3, search -3.9, payments -2.7, inventory -3.6,
notifications -4.2 (about 11 % incidents over all in the first half). Drift in the second
half of the artifacts: dependency changes count twice as much and are more frequent (a
framework migration), a coverage drop counts half as much (the suite got better at
catching what coverage misses), and checkout's base rises by 0.8 (a new team): about 17 %
incidents. Signals go missing as in real pipelines: coverage 10 %, benchmarks 25 %,
production 15 % of artifacts. The outcome is drawn from the probability,
so even a perfect scorer is uncertain.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SERVICE_BASE_LOGITS = {
    "checkout": -3.3,
    "search": -3.9,
    "payments": -2.7,
    "inventory": -3.6,
    "notifications": -4.2,
}
START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
SPACING = timedelta(hours=2)


@dataclasses.dataclass(frozen=True)
class Drift:
    dependency_factor: float = 1.0
    coverage_factor: float = 1.0
    checkout_shift: float = 0.0
    extra_dependency_updates: float = 0.0


SECOND_HALF = Drift(
    dependency_factor=2.0, coverage_factor=0.5, checkout_shift=0.8, extra_dependency_updates=1.0
)


def generate(artifacts: int, seed: int) -> list[dict[str, Any]]:
    """`artifacts` history lines (format v1) in time order, reproducible from `seed`."""
    if artifacts < 1:
        raise ValueError("--artifacts: must be at least 1")
    rng = random.Random(seed)
    lines = []
    for index in range(artifacts):
        drift = SECOND_HALF if index >= artifacts // 2 else Drift()
        service = rng.choice(list(SERVICE_BASE_LOGITS))
        signals = _signals(rng, drift)
        incident = rng.random() < _sigmoid(hidden_logit(service, signals, drift))
        lines.append(
            {
                "id": f"a-{index + 1:04d}",
                "service": service,
                "time": (START + index * SPACING).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "signals": signals,
                "outcome": "incident" if incident else "healthy",
            }
        )
    return lines


def hidden_logit(service: str, signals: dict[str, Any], drift: Drift) -> float:
    tests, change = signals["tests"], signals["change"]
    vulns, deps = signals["vulnerabilities"], signals["dependencies"]
    high_tier = change["risk_tier"] == "high"
    shift = drift.checkout_shift if service == "checkout" else 0.0
    logit = SERVICE_BASE_LOGITS[service] + shift
    logit += 2.0 * (tests["failed"] > 0)
    if signals.get("coverage_delta", 0.0) < -1.0:
        logit += 1.4 * (1.5 if high_tier else 0.6) * drift.coverage_factor
    if "benchmarks" in signals:
        logit += 0.9 * min(signals["benchmarks"]["regressions"], 2)
        logit += 1.2 * (signals["benchmarks"]["worst_ratio"] > 1.15)
    logit += 1.0 * (vulns["critical"] > 0) + 0.25 * min(vulns["high"], 4)
    logit += 0.7 * (change["lines"] > 800) + 0.5 * high_tier
    churn = deps["added"] + deps["updated"] + deps["removed"]
    logit += 0.4 * min(max(churn - 3, 0), 4) * drift.dependency_factor
    if "production" in signals:
        logit += 1.3 * (signals["production"]["error_rate"] > 0.008)
        logit += 1.5 * (signals["production"]["alerts_firing"] > 0)
    return float(logit)


def _signals(rng: random.Random, drift: Drift) -> dict[str, Any]:
    total = rng.randint(200, 2000)
    failed = 0 if rng.random() < 0.93 else rng.randint(1, 5)
    lines = max(1, round(math.exp(rng.gauss(5.0, 1.2))))
    tier = "high" if lines > 1000 or rng.random() < 0.1 else rng.choice(["low", "medium"])
    critical = 1 if rng.random() < 0.05 else 0
    signals: dict[str, Any] = {
        "tests": {"total": total, "failed": failed, "skipped": _poisson(rng, 3.0)},
        "vulnerabilities": {
            "critical": critical,
            "high": _poisson(rng, 0.5),
            "medium": _poisson(rng, 2.0),
            "fixable_critical": critical if rng.random() < 0.5 else 0,
        },
        "dependencies": {
            "added": _poisson(rng, 0.5),
            "updated": _poisson(rng, 1.2 + drift.extra_dependency_updates),
            "removed": _poisson(rng, 0.2),
        },
        "change": {"files": lines // 30 + 1, "lines": lines, "risk_tier": tier},
    }
    if rng.random() >= 0.10:
        signals["coverage_delta"] = round(rng.gauss(-0.1, 0.8), 2)
    if rng.random() >= 0.25:
        regressions = rng.choices([0, 1, 2], weights=[0.85, 0.12, 0.03])[0]
        ratio = math.exp(rng.gauss(0.0, 0.05)) + 0.1 * regressions
        signals["benchmarks"] = {"regressions": regressions, "worst_ratio": round(ratio, 3)}
    if rng.random() >= 0.15:
        signals["production"] = {
            "error_rate": round(math.exp(rng.gauss(math.log(0.002), 0.9)), 5),
            "alerts_firing": 0 if rng.random() < 0.93 else 1,
        }
    return signals


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: exact, and fast at these small means
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _sigmoid(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-logit))


def write(lines: list[dict[str, Any]], out: Path) -> None:
    out.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))
