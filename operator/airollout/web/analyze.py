"""One measurement for Argo Rollouts: the window since the last call, judged as the operator
judges an AIRollout's window, with the evidence carried over in the cluster.

The window is [last call, now]; the first call looks one `analysis.interval` back. Warm-up
counts from the first window's start. Canary and stable are the same Rollout's pods, told
apart by their rollouts-pod-template-hash (`{{ podTemplateHash }}` in a query).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from airollout.adapters.kubernetes.events import InvolvedRollout
from airollout.adapters.metrics.source import MetricsProvider, WindowData, WindowQuery
from airollout.core.analysis.types import Observation, Version
from airollout.core.judge.records import decision_record
from airollout.core.judge.types import Action, DecisionContext, Judge, Verdict, summary_of
from airollout.core.resource.spec import AnalysisSpec
from airollout.core.resource.status import DecisionRecord
from airollout.core.rollout.judge_input import analysis_settings
from airollout.core.rollout.timeline import from_rfc3339, to_rfc3339
from airollout.web.evidence import Evidence, EvidenceStore
from airollout.web.request import AnalysisRequest

log = logging.getLogger("airollout.web")

ProviderFactory = Callable[[AnalysisSpec], MetricsProvider | None]
JudgeFactory = Callable[[AnalysisRequest], Judge]
# Decision-log names of an Argo Rollout's analyses: apart from any AIRollout's log (whose
# names have no dot prefix like this and whose uids are UUIDs, not pod-template-hashes).
LOG_NAME_PREFIX = "argo."


class DecisionSink(Protocol):
    def write(self, ref: InvolvedRollout, key: str, record: DecisionRecord) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """What Argo's `successCondition` / `failureCondition` read as `result`."""

    decision: str
    summary: str
    reasoning: str
    window: int
    metrics: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def log_ref(request: AnalysisRequest) -> InvolvedRollout:
    """The decision log's key: the Rollout's name and the canary's pod-template-hash."""
    name = f"{LOG_NAME_PREFIX}{request.rollout}"
    return InvolvedRollout(request.namespace, name, request.canary_hash)


class AnalysisService:
    def __init__(
        self,
        store: EvidenceStore,
        providers: ProviderFactory,
        judges: JudgeFactory,
        decisions: DecisionSink,
        clock: Callable[[], datetime],
    ) -> None:
        self.store, self.providers, self.judges = store, providers, judges
        self.decisions, self.clock = decisions, clock

    def analyze(self, request: AnalysisRequest) -> Answer:
        """Judge the window since the last call; EvidenceConflictError if another call won it."""
        now = self.clock()
        before = self.store.load(request.namespace, request.rollout, request.canary_hash)
        start = (
            from_rfc3339(before.last_end)
            if before is not None
            else now - timedelta(seconds=request.analysis.interval_seconds)
        )
        first_start = from_rfc3339(before.first_start) if before is not None else start
        windows = (before.windows if before is not None else 0) + 1
        context = _context(request, windows, (now - first_start).total_seconds())
        judge = self.judges(request)
        settings = analysis_settings(request.analysis)
        state = dict(before.state) if before is not None else judge.initial_state(settings)
        data = self._read(request, start, now, first_start)
        verdict, new_state = _decide(judge, settings, state, context, data)
        after = Evidence(windows, to_rfc3339(first_start), to_rfc3339(now), new_state)
        if before is not None:
            after = dataclasses.replace(after, version=before.version)
        self.store.save(request.namespace, request.rollout, request.canary_hash, after)
        record = decision_record(verdict, context, to_rfc3339(now), key=f"w{windows}")
        record = record.model_copy(update={"summary": summary_text(verdict)})
        self._log(request, record)
        return Answer(
            decision=verdict.action.value,
            summary=record.summary,
            reasoning=verdict.reasoning,
            window=windows,
            metrics=[m.model_dump(mode="json", by_alias=True) for m in record.metrics],
        )

    def _read(
        self, request: AnalysisRequest, start: datetime, end: datetime, first_start: datetime
    ) -> WindowData:
        provider = self.providers(request.analysis)
        if provider is None:  # the endpoint refuses such a request; kept safe all the same
            empty = Observation((start - first_start).total_seconds(), 0.0, {}, {})
            return WindowData(empty, ("no Prometheus address is configured",))
        return provider.read_window(
            WindowQuery(
                namespace=request.namespace,
                workloads={Version.CANARY: request.rollout, Version.STABLE: request.rollout},
                metrics=request.analysis.metrics,
                start=start,
                end=end,
                slice_started_at=first_start,
                rollout=request.rollout,
                pod_template_hashes={
                    Version.CANARY: request.canary_hash,
                    Version.STABLE: request.stable_hash,
                },
            )
        )

    def _log(self, request: AnalysisRequest, record: DecisionRecord) -> None:
        """The audit trail; a log that refuses the record does not lose Argo its answer."""
        try:
            self.decisions.write(log_ref(request), record.key or "", record)
        except Exception:
            log.exception(
                "%s/%s: the decision log refused a record", request.namespace, request.rollout
            )


def _context(request: AnalysisRequest, window: int, elapsed_s: float) -> DecisionContext:
    return DecisionContext(
        rollout=request.rollout,
        namespace=request.namespace,
        revision=request.canary_hash,
        slice_index=0,  # Argo moves the weight; the judge sees one slice per canary
        weight=0,
        window_index=window,
        elapsed_s=max(elapsed_s, 0.0),
        labels={"canaryHash": request.canary_hash, "stableHash": request.stable_hash},
    )


def _decide(
    judge: Judge,
    settings: Any,
    state: dict[str, Any],
    context: DecisionContext,
    data: WindowData,
) -> tuple[Verdict, dict[str, Any]]:
    """The judge's verdict; a judge that raises holds (never proceeds) and keeps the state."""
    if data.problems:
        notes = {f"metrics.problem.{i + 1}": text for i, text in enumerate(data.problems)}
        context = dataclasses.replace(context, labels={**context.labels, **notes})
    try:
        verdict, new_state = judge.decide(settings, state, context, [data.observation])
    except Exception as error:
        log.exception("%s/%s: the judge failed", context.namespace, context.rollout)
        summary = f"Hold: the judge failed on this window ({type(error).__name__}: {error})"
        return Verdict(Action.HOLD, f"{summary}.", (), (), summary=summary), state
    if data.problems:
        reasoning = f"{verdict.reasoning} Metric source: {' '.join(data.problems)}"
        verdict = dataclasses.replace(verdict, reasoning=reasoning)
    return verdict, new_state


def summary_text(verdict: Verdict) -> str:
    """ "Rollback: canary error rate 8.7 % ... is above the 0.5 % bound" (Argo knows the
    weight; the endpoint does not, so the line does not name one)."""
    reason = summary_of(verdict)
    action = verdict.action.value.capitalize()
    if reason.startswith(f"{action}:"):
        return reason
    return f"{action}: {reason}" if reason else action
