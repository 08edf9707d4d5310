"""`airollout promotion score`: the probability that an artifact reaches production without
a regression, from the reports its pipeline wrote, with the hard blocks and the tier.

Exit status, so a pipeline can gate on it: 0 for auto-promote and manual-review (a review is
a decision to wait for a person, not a failure: read the `decision` output), 1 for block,
2 for bad input (a missing or malformed report, an unknown format, a bad flag).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airollout.adapters.reports.collect import Inputs, collect
from airollout.adapters.reports.common import ReportError, json_object
from airollout.adapters.reports.production import ProductionQueries
from airollout.cli.github import write_step_outputs
from airollout.cli.promotion_report import (
    Result,
    compact_json,
    markdown,
    report_document,
    text,
    with_narration,
)
from airollout.core.feedback.policy import Policy, PolicyError
from airollout.core.promotion.benchmark_test import DEFAULT_TOLERANCE
from airollout.core.promotion.blocks import BlockRules, BlockRulesError, hard_blocks
from airollout.core.promotion.model import DEFAULT_MODEL, ModelError, PromotionModel, score
from airollout.core.promotion.signals import RISK_TIERS, SignalsError, signals_from_json
from airollout.core.promotion.tiers import Decision, Thresholds, ThresholdsError, decide

if TYPE_CHECKING:
    from airollout.adapters.llm.promotion_narrative import Narration

EXIT_BLOCK, EXIT_BAD_INPUT = 1, 2
_INPUT_ERRORS = (ReportError, SignalsError)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("promotion", help="score an artifact for promotion")
    commands = parser.add_subparsers(dest="promotion_command", metavar="SUBCOMMAND", required=True)
    scoring = commands.add_parser(
        "score",
        help="P(no regression in production) from test, coverage, benchmark, security,"
        " dependency, production and history signals; exit 1 when blocked",
    )
    _inputs(scoring)
    _policy(scoring)
    form = scoring.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print one compact JSON line")
    form.add_argument(
        "--github", action="store_true", help="write $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY"
    )
    _llm(scoring)
    scoring.add_argument(
        "--termination-log", type=Path, metavar="PATH", help="also write the JSON line here"
    )
    scoring.set_defaults(handler=_score)


def _inputs(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--signals", type=Path, metavar="FILE", help="a v1 signals object; flags override it")
    add("--junit", type=Path, action="append", default=[], metavar="FILE", help="JUnit XML")
    add(
        "--test-results",
        metavar="JSON|@FILE",
        help="the tests Job's totals ($AIROLLOUT_TEST_RESULTS), instead of --junit",
    )
    add(
        "--test-plan",
        metavar="JSON|@FILE",
        help="the selection plan ($AIROLLOUT_TEST_PLAN): its risk tier, unless --risk-tier",
    )
    add("--coverage", type=Path, metavar="FILE", help="coverage.py JSON or Cobertura XML")
    add("--baseline-coverage", type=Path, metavar="FILE")
    add("--benchmarks", type=Path, metavar="FILE", help="pytest-benchmark or plain JSON")
    add("--baseline-benchmarks", type=Path, metavar="FILE")
    add(
        "--benchmark-tolerance",
        type=_fraction,
        default=DEFAULT_TOLERANCE,
        metavar="SHARE",
        help=f"slow-down allowed before a regression (default {DEFAULT_TOLERANCE})",
    )
    add(
        "--security",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="SARIF 2.1, Grype, Trivy or OSV-Scanner JSON (repeatable)",
    )
    add("--baseline-security", type=Path, action="append", default=[], metavar="FILE")
    add("--sbom", type=Path, metavar="FILE", help="CycloneDX JSON SBOM of this build")
    add("--baseline-sbom", type=Path, metavar="FILE")
    add("--prometheus", metavar="URL", help="Prometheus for the production signal")
    add("--error-rate-query", metavar="PROMQL", help="the service's error rate, in [0, 1]")
    add("--max-error-rate", type=_fraction, metavar="SHARE", help="the service's bound")
    add("--latency-query", metavar="PROMQL", help="the service's latency, seconds")
    add("--max-latency", type=float, metavar="SECONDS")
    add("--alerts-selector", metavar="MATCHERS", help='ALERTS labels, e.g. service="checkout"')
    add("--history", type=Path, metavar="OUTCOMES.jsonl", help="past outcomes, one a line")
    add("--service", metavar="NAME", help="the service whose history counts")
    add("--change-files", type=_count, metavar="N")
    add("--change-lines", type=_count, metavar="N")
    add("--risk-tier", choices=RISK_TIERS)


def _policy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        metavar="POLICY.json",
        help="a feedback policy (model, thresholds) or a model alone; default: the untrained one",
    )
    parser.add_argument(
        "--thresholds",
        type=_thresholds,
        metavar="AUTO,REVIEW",
        help="tier thresholds (default 0.92,0.75, or the policy's)",
    )
    parser.add_argument("--blocks", type=Path, metavar="RULES.json", help="hard-block rules")


def _llm(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--llm-endpoint",
        metavar="URL",
        help="an OpenAI-compatible endpoint that writes the narrative (may lower the score)",
    )
    parser.add_argument("--llm-model", metavar="MODEL", help="the model to ask")
    parser.add_argument(
        "--llm-api-key-env",
        default="OPENAI_API_KEY",
        metavar="VAR",
        help="the environment variable holding the API key (default OPENAI_API_KEY)",
    )
    parser.add_argument(
        "--llm-timeout",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="one request's timeout; all attempts together get twice as long (default 20)",
    )


def _score(args: argparse.Namespace) -> int:
    try:
        model, thresholds, rules = _load_policy(args)
        reading = collect(_inputs_of(args), now=datetime.now(UTC))
        signals = signals_from_json(reading.signals)
    except _INPUT_ERRORS as error:
        print(f"airollout promotion score: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = score(signals, model)
    blocks = hard_blocks(signals, rules)
    if bool(args.llm_endpoint) != bool(args.llm_model):
        print(
            "airollout promotion score: --llm-endpoint and --llm-model: give both", file=sys.stderr
        )
        return EXIT_BAD_INPUT
    outcome = Result(
        score=result,
        decision=decide(result.probability, blocks, thresholds),
        blocks=blocks,
        signals=reading.signals,
        model=model.version,
        thresholds=thresholds,
        notes=reading.notes,
    )
    if args.llm_endpoint:
        outcome = with_narration(outcome, _narrate(outcome, args))
    _show(outcome, args, os.environ)
    return EXIT_BLOCK if outcome.decision is Decision.BLOCK else 0


def _narrate(result: Result, args: argparse.Namespace) -> Narration:
    # imported here: the LLM client takes a second to import, and most runs do not ask one
    from airollout.adapters.llm.openai_judge import LLMSettings, api_key_from_env
    from airollout.adapters.llm.promotion_narrative import PromotionNarrator

    settings = LLMSettings(
        model=args.llm_model,
        base_url=args.llm_endpoint,
        api_key=api_key_from_env(args.llm_api_key_env),
        timeout_s=args.llm_timeout,
        deadline_s=2 * args.llm_timeout,
    )
    narrator = PromotionNarrator(settings)
    try:
        return narrator.narrate(report_document(result), result.notes)
    finally:
        narrator.close()


def _show(result: Result, args: argparse.Namespace, env: Mapping[str, str]) -> None:
    line = compact_json(result)
    if args.termination_log is not None:
        args.termination_log.write_text(line, encoding="utf-8")
    if args.json:
        print(line)
        return
    sys.stdout.write(text(result))
    if args.github:
        write_step_outputs(
            env, {"score": f"{result.probability:.4f}", "decision": str(result.decision)}
        )
        summary = env.get("GITHUB_STEP_SUMMARY")
        if summary:
            with Path(summary).open("a", encoding="utf-8") as out:
                out.write(markdown(result))


def _inputs_of(args: argparse.Namespace) -> Inputs:
    return Inputs(
        signals_file=args.signals,
        junit=tuple(args.junit),
        test_results=args.test_results,
        test_plan=args.test_plan,
        coverage=args.coverage,
        baseline_coverage=args.baseline_coverage,
        benchmarks=args.benchmarks,
        baseline_benchmarks=args.baseline_benchmarks,
        benchmark_tolerance=args.benchmark_tolerance,
        security=tuple(args.security),
        baseline_security=tuple(args.baseline_security),
        sbom=args.sbom,
        baseline_sbom=args.baseline_sbom,
        prometheus=args.prometheus,
        production=ProductionQueries(
            error_rate=args.error_rate_query,
            max_error_rate=args.max_error_rate,
            alerts_selector=args.alerts_selector,
            latency=args.latency_query,
            max_latency=args.max_latency,
        ),
        history=args.history,
        service=args.service,
        change_files=args.change_files,
        change_lines=args.change_lines,
        risk_tier=args.risk_tier,
    )


def _load_policy(args: argparse.Namespace) -> tuple[PromotionModel, Thresholds, BlockRules]:
    """The model and thresholds of `--model` (a policy, or a bare model), flags winning."""
    model, thresholds, rules = DEFAULT_MODEL, Thresholds(), BlockRules()
    if args.model is not None:
        document = json_object(args.model, "policy or model JSON")
        model, thresholds = _from_policy(args.model, document, thresholds)
    if args.blocks is not None:
        try:
            rules = BlockRules.from_json(json_object(args.blocks, "block-rules JSON"))
        except BlockRulesError as error:
            raise ReportError(f"{args.blocks}: {error}") from None
    return model, args.thresholds or thresholds, rules


def _from_policy(
    path: Path, document: Mapping[str, Any], thresholds: Thresholds
) -> tuple[PromotionModel, Thresholds]:
    try:
        if "model" not in document:
            return PromotionModel.from_json(document), thresholds
        policy = Policy.from_json(document)
        return policy.model, policy.thresholds
    except (ModelError, PolicyError) as error:
        raise ReportError(f"{path}: {error}") from None


def _fraction(text_value: str) -> float:
    value = float(text_value)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text_value}: must be a number in [0, 1]")
    return value


def _count(text_value: str) -> int:
    value = int(text_value)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text_value}: must be an integer >= 0")
    return value


def _thresholds(text_value: str) -> Thresholds:
    try:
        auto, review = (float(part) for part in text_value.split(","))
        return Thresholds(auto_promote=auto, manual_review=review)
    except (ValueError, ThresholdsError) as error:
        raise argparse.ArgumentTypeError(f"{text_value}: AUTO,REVIEW in [0, 1] ({error})") from None
