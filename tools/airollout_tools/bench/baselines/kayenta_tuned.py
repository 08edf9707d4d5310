"""Kayenta as a careful user configures it: a sliding lookback of one window more.

The same NetflixACAJudge classifier and scores as `kayenta_mwu`, with the one setting the
Spinnaker canary stage docs (https://spinnaker.io/docs/guides/user/canary/stage/, "real
time" analysis, `lookbackMins`) offer for short intervals: each interval is scored on a
sliding window reaching one interval further back than the interval itself, so every
Mann-Whitney test sees two windows of steps instead of one. Steps inside a slice's warmup
stay out, as before; the window kept from before a traffic change still counts, since
each step is a rate and the canary is the same version. The lookback was chosen on the
shared scenario set (`../shared/scenarios`) before any other set was run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airollout.core.analysis.types import AnalysisSettings, Observation, Version
from airollout.core.judge.types import DecisionContext, Verdict
from airollout_tools.bench.baselines.kayenta_mwu import action_for_score, classify, score
from airollout_tools.bench.baselines.measure import step_values
from airollout_tools.bench.baselines.verdicts import baseline_verdict


class KayentaTunedJudge:
    name = "kayenta-tuned"

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return {"baseline": {}, "previous": {}}

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        last_baseline, previous = dict(state["baseline"]), dict(state["previous"])
        classes, notes = [], []
        for check in settings.metrics:
            canary = step_values(check, window, settings.warmup_s, Version.CANARY)
            baseline = step_values(check, window, settings.warmup_s, Version.STABLE)
            baseline = baseline or list(last_baseline.get(check.name, []))
            last_baseline[check.name] = baseline
            earlier = previous.get(check.name, {"canary": [], "baseline": []})
            previous[check.name] = {"canary": canary, "baseline": baseline}
            canary_series = [*earlier["canary"], *canary]
            baseline_series = [*earlier["baseline"], *baseline]
            classes.append(classify(canary_series, baseline_series))
            notes.append(
                f"{check.name} {classes[-1].value} "
                f"(n={len(canary_series)}/{len(baseline_series)}, lookback 2 windows)"
            )
        value = score(classes)
        notes.append(f"score {value:.0f}")
        verdict = baseline_verdict(self.name, action_for_score(value), notes)
        return verdict, {"baseline": last_baseline, "previous": previous}
