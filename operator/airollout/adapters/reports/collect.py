"""All the inputs of one promotion score, read into one v1 signals object.

A signals file (`--signals`, what a pipeline computed itself) is read first; each report
given on the command line then replaces that signal, so a flag always wins over the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from airollout.adapters.metrics.prometheus import PrometheusProvider
from airollout.adapters.reports.benchmark_report import read_benchmarks
from airollout.adapters.reports.common import Reading, ReportError, json_object, merge
from airollout.adapters.reports.coverage_report import read_coverage_delta
from airollout.adapters.reports.history import read_history
from airollout.adapters.reports.job_results import read_plan_risk, read_test_totals
from airollout.adapters.reports.junit_results import read_tests
from airollout.adapters.reports.production import ProductionQueries, read_production
from airollout.adapters.reports.sbom import read_dependencies
from airollout.adapters.reports.security_report import read_security
from airollout.core.promotion.benchmark_test import DEFAULT_TOLERANCE
from airollout.core.promotion.signals import SignalsError, signals_from_json


@dataclasses.dataclass(frozen=True)
class Inputs:
    signals_file: Path | None = None
    junit: Sequence[Path] = ()
    test_results: str | None = None  # the tests Job's totals, JSON or @FILE
    test_plan: str | None = None  # the selection plan, JSON or @FILE: its risk tier
    coverage: Path | None = None
    baseline_coverage: Path | None = None
    benchmarks: Path | None = None
    baseline_benchmarks: Path | None = None
    benchmark_tolerance: float = DEFAULT_TOLERANCE
    security: Sequence[Path] = ()
    baseline_security: Sequence[Path] = ()
    sbom: Path | None = None
    baseline_sbom: Path | None = None
    prometheus: str | None = None
    production: ProductionQueries = dataclasses.field(default_factory=ProductionQueries)
    history: Path | None = None
    service: str | None = None
    change_files: int | None = None
    change_lines: int | None = None
    risk_tier: str | None = None


def collect(
    inputs: Inputs,
    now: datetime,
    provider: Callable[[str], PrometheusProvider] = PrometheusProvider,
) -> Reading:
    """The signals of every input given, and what was read; ReportError on a bad input."""
    readings = [_signals_file(inputs.signals_file)] if inputs.signals_file else []
    if inputs.junit and inputs.test_results:
        raise ReportError("--junit and --test-results: give one, they count the same tests")
    if inputs.junit:
        readings.append(read_tests(inputs.junit))
    if inputs.test_results:
        readings.append(read_test_totals(inputs.test_results))
    coverage = _pair("--coverage", inputs.coverage, "--baseline-coverage", inputs.baseline_coverage)
    if coverage:
        readings.append(read_coverage_delta(*coverage))
    benchmarks = _pair(
        "--benchmarks", inputs.benchmarks, "--baseline-benchmarks", inputs.baseline_benchmarks
    )
    if benchmarks:
        readings.append(read_benchmarks(*benchmarks, inputs.benchmark_tolerance))
    if inputs.baseline_security and not inputs.security:
        raise ReportError("--baseline-security: needs --security, the build's reports")
    if inputs.security:
        readings.append(read_security(inputs.security, inputs.baseline_security))
    sbom = _pair("--sbom", inputs.sbom, "--baseline-sbom", inputs.baseline_sbom)
    if sbom:
        readings.append(read_dependencies(*sbom))
    if inputs.prometheus:
        readings.append(read_production(provider(inputs.prometheus), inputs.production, now))
    elif inputs.production != ProductionQueries():
        raise ReportError(
            "--error-rate-query, --latency-query, --alerts-selector: need --prometheus"
        )
    if inputs.history or inputs.service:
        if not (inputs.history and inputs.service):
            raise ReportError("--history and --service: give both or neither")
        readings.append(read_history(inputs.history, inputs.service))
    change = _change(inputs)
    if change:
        readings.append(Reading({"change": change}, (f"change: {_shown(change)}",)))
    if not readings:
        # With no signal at all the model's intercept alone would auto-promote.
        raise ReportError("no inputs: give at least one report, --signals or --change-*")
    return merge(readings)


def _pair(
    flag: str, build: Path | None, baseline_flag: str, baseline: Path | None
) -> tuple[Path, Path] | None:
    if build is None and baseline is None:
        return None
    if build is None or baseline is None:
        missing = flag if build is None else baseline_flag
        raise ReportError(f"{flag} and {baseline_flag}: give both ({missing} is missing)")
    return build, baseline


def _signals_file(path: Path) -> Reading:
    data = json_object(path, "v1 signals object")
    try:
        signals_from_json(data)
    except SignalsError as error:
        raise ReportError(f"{path}: {error}") from None
    return Reading(dict(data), (f"signals from {path}: {', '.join(sorted(data)) or 'none'}",))


def _change(inputs: Inputs) -> dict[str, Any]:
    tier = inputs.risk_tier
    if tier is None and inputs.test_plan:
        tier = read_plan_risk(inputs.test_plan)
    values = {"files": inputs.change_files, "lines": inputs.change_lines, "risk_tier": tier}
    return {key: value for key, value in values.items() if value is not None}


def _shown(change: dict[str, Any]) -> str:
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in change.items())
