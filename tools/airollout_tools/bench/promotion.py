"""`airollout bench promotion`: replay an artifact history through three promotion policies.

Each artifact is scored BEFORE its outcome is known, then its outcome is fed back: to the
service's incident history (the `history` signal the models see) and to the `airollout`
policy, which refits the model and its thresholds every `refit_every` artifacts from what
it has seen. The figures are per half of the history, so the second half shows what the
loop learnt (and how it copes with drift) against two policies that never learn:

- `seed-policy`: our reading of the seed's fixed rules on the same signals. Block on a
  failed test or a critical vulnerability; auto-promote when, besides, coverage dropped by
  less than 1 point, no benchmark regressed, no high vulnerability and the change is not
  high-risk; otherwise review. Its probabilities, so Brier and ECE are defined, are
  0.95 / 0.80 / 0.30 for auto-promote / review / block.
- `default-model`: DEFAULT_MODEL (untrained, hand-set) with the default tiers.
- `airollout`: the same model refitted (recency-weighted) with thresholds that hold
  `target_false_promotion_rate` on its own past scores.

All three apply the same hard blocks on top (`seed-policy` has them among its rules).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from airollout.core.feedback.scores import brier, expected_calibration_error
from airollout.core.promotion.blocks import hard_blocks
from airollout.core.promotion.fit import fit, thresholds_for
from airollout.core.promotion.model import DEFAULT_MODEL, PromotionModel, score
from airollout.core.promotion.signals import HistorySignal, Signals, SignalsError
from airollout.core.promotion.signals import signals_from_json as parse_signals
from airollout.core.promotion.tiers import Decision, Thresholds, decide

REFIT_EVERY = 100
HALF_LIFE = 400  # artifacts: how fast an old outcome's weight in the refit halves
TARGET_FALSE_PROMOTION_RATE = 0.15
SEED_PROBABILITY = {Decision.AUTO_PROMOTE: 0.95, Decision.MANUAL_REVIEW: 0.80, Decision.BLOCK: 0.30}
POLICIES = ("airollout", "seed-policy", "default-model")
OUTCOMES = ("healthy", "incident")


class HistoryError(ValueError):
    """A malformed history file; the message names the file, the line and the field."""


@dataclasses.dataclass(frozen=True)
class Artifact:
    id: str
    service: str
    time: datetime
    signals: Signals
    incident: bool


@dataclasses.dataclass(frozen=True)
class HalfScores:
    brier: float
    ece: float
    auto_promoted_incidents: int
    stopped_incidents: int
    incidents: int
    review_share: float
    block_share: float  # the table shows it; the JSON keeps the keys only

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        del out["block_share"]
        return out


class Policy(Protocol):
    def judge(self, signals: Signals) -> tuple[float, Decision]: ...

    def learn(self, signals: Signals, incident: bool) -> None: ...


class SeedPolicy:
    def judge(self, signals: Signals) -> tuple[float, Decision]:
        decision = seed_decision(signals)
        return SEED_PROBABILITY[decision], decision

    def learn(self, signals: Signals, incident: bool) -> None:
        return None


def seed_decision(s: Signals) -> Decision:
    tests, vulns, bench, change = s.tests, s.vulnerabilities, s.benchmarks, s.change
    if (tests and tests.failed) or (vulns and vulns.critical):
        return Decision.BLOCK
    clean = (
        (s.coverage_delta is None or s.coverage_delta > -1.0)
        and not (bench and bench.regressions)
        and not (vulns and vulns.high)
        and not (change and change.risk_tier == "high")
    )
    return Decision.AUTO_PROMOTE if clean else Decision.MANUAL_REVIEW


class ModelPolicy:
    """A model and its thresholds; with `refit_every`, refitted from the outcomes it saw."""

    def __init__(
        self,
        model: PromotionModel = DEFAULT_MODEL,
        refit_every: int | None = None,
        target_false_promotion_rate: float = TARGET_FALSE_PROMOTION_RATE,
    ) -> None:
        self.model, self.thresholds = model, Thresholds()
        self.refit_every, self.target = refit_every, target_false_promotion_rate
        self.seen: list[tuple[Signals, bool]] = []

    def judge(self, signals: Signals) -> tuple[float, Decision]:
        probability = score(signals, self.model).probability
        return probability, decide(probability, hard_blocks(signals), self.thresholds)

    def learn(self, signals: Signals, incident: bool) -> None:
        if self.refit_every is None:
            return
        self.seen.append((signals, incident))
        if len(self.seen) % self.refit_every == 0:
            self._refit()

    def _refit(self) -> None:
        newest = len(self.seen) - 1
        weights = [0.5 ** ((newest - age) / HALF_LIFE) for age in range(len(self.seen))]
        self.model = fit(self.seen, DEFAULT_MODEL, weights)
        recent = self.seen[-2 * HALF_LIFE :]
        probabilities = [score(signals, self.model).probability for signals, _ in recent]
        incidents = [incident for _, incident in recent]
        self.thresholds = thresholds_for(probabilities, incidents, self.target)


@dataclasses.dataclass
class _Tally:
    probabilities: list[float] = dataclasses.field(default_factory=list)
    healthy: list[bool] = dataclasses.field(default_factory=list)
    decisions: list[Decision] = dataclasses.field(default_factory=list)

    def add(self, probability: float, decision: Decision, healthy: bool) -> None:
        self.probabilities.append(probability)
        self.decisions.append(decision)
        self.healthy.append(healthy)

    def scores(self) -> HalfScores:
        incidents = [not good for good in self.healthy]
        promoted = sum(
            1
            for decision, incident in zip(self.decisions, incidents, strict=True)
            if incident and decision is Decision.AUTO_PROMOTE
        )
        counts = Counter(self.decisions)
        return HalfScores(
            brier=brier(self.probabilities, self.healthy),
            ece=expected_calibration_error(self.probabilities, self.healthy),
            auto_promoted_incidents=promoted,
            stopped_incidents=sum(incidents) - promoted,
            incidents=sum(incidents),
            review_share=counts[Decision.MANUAL_REVIEW] / len(self.decisions),
            block_share=counts[Decision.BLOCK] / len(self.decisions),
        )


@dataclasses.dataclass(frozen=True)
class Report:
    artifacts: int
    halves: dict[str, tuple[HalfScores, HalfScores]]  # policy -> (first, second)

    def to_json(self) -> dict[str, Any]:
        """The issue's object, with its keys only."""
        return {
            "artifacts": self.artifacts,
            "policies": {
                name: {"first_half": first.to_json(), "second_half": second.to_json()}
                for name, (first, second) in self.halves.items()
            },
        }


def run(artifacts: Sequence[Artifact], refit_every: int = REFIT_EVERY) -> Report:
    """Every policy's scores per half of the history, replayed in time order."""
    if len(artifacts) < 2:
        raise HistoryError("the history needs at least 2 artifacts, one for each half")
    ordered = sorted(artifacts, key=lambda artifact: artifact.time)
    policies: dict[str, Policy] = {
        "airollout": ModelPolicy(refit_every=refit_every),
        "seed-policy": SeedPolicy(),
        "default-model": ModelPolicy(),
    }
    tallies = {name: (_Tally(), _Tally()) for name in POLICIES}
    history: dict[str, HistorySignal] = {}
    for index, artifact in enumerate(ordered):
        past = history.get(artifact.service, HistorySignal())
        signals = dataclasses.replace(artifact.signals, history=past)
        half = 0 if index < len(ordered) // 2 else 1
        for name, policy in policies.items():
            tallies[name][half].add(*policy.judge(signals), healthy=not artifact.incident)
        for policy in policies.values():
            policy.learn(signals, artifact.incident)
        history[artifact.service] = HistorySignal(
            rollouts=past.rollouts + 1, incidents=past.incidents + artifact.incident
        )
    return Report(
        artifacts=len(ordered),
        halves={
            name: (first.scores(), second.scores()) for name, (first, second) in tallies.items()
        },
    )


def load_history(path: Path) -> list[Artifact]:
    """The history's artifacts; HistoryError names the file, the line and what is wrong."""
    try:
        text = path.read_text()
    except OSError as error:
        raise HistoryError(f"{path}: cannot read: {error.strerror}") from error
    artifacts = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            artifacts.append(_artifact(line, f"{path}:{number}"))
    if not artifacts:
        raise HistoryError(f"{path}: no artifacts (one JSON object a line)")
    return artifacts


def _artifact(line: str, where: str) -> Artifact:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as error:
        raise HistoryError(f"{where}: not JSON: {error.msg}") from error
    if not isinstance(obj, dict):
        raise HistoryError(f"{where}: must be a JSON object")
    for key in ("id", "service", "time"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise HistoryError(f"{where}: {key}: must be a non-empty string")
    if obj.get("outcome") not in OUTCOMES:
        raise HistoryError(f"{where}: outcome: must be one of {', '.join(OUTCOMES)}")
    try:
        time = datetime.fromisoformat(obj["time"])
    except ValueError as error:
        raise HistoryError(f"{where}: time: not an ISO 8601 time ({obj['time']!r})") from error
    try:
        signals = parse_signals(obj.get("signals", {}))
    except SignalsError as error:
        raise HistoryError(f"{where}: {error}") from error
    if time.tzinfo is None:
        raise HistoryError(f"{where}: time: needs a time zone (e.g. Z)")
    return Artifact(obj["id"], obj["service"], time, signals, obj["outcome"] == "incident")
