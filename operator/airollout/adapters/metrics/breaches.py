"""After a promotion: the promoted version's metrics over the observation period, and
whether an alert fired in the namespace meanwhile, from Prometheus.

The metric queries are the rollout's own templates, read for the stable version (the
promoted one, once traffic is all its) with `{{ window }}` the whole period. Reading never
raises: what cannot be read is missing, and the caller treats missing as unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from airollout.adapters.metrics import queries
from airollout.adapters.metrics.prometheus import PrometheusProvider
from airollout.adapters.metrics.source import WindowQuery
from airollout.core.analysis.types import Sample, Version
from airollout.core.resource.spec import MetricSpec

log = logging.getLogger(__name__)

# Alert series Prometheus keeps while an alert fires; `namespace` is the usual label rules
# carry for the workload's namespace.
ALERTS_QUERY = 'max_over_time(ALERTS{{alertstate="firing", namespace="{namespace}"}}[{window}])'


@dataclass(frozen=True)
class PeriodReading:
    samples: Mapping[str, Sample]
    alerts_fired: bool | None  # None: Prometheus did not answer
    problems: tuple[str, ...]


class PeriodReader:
    def __init__(self, address: str, timeout_s: float = 10.0) -> None:
        self.provider = PrometheusProvider(address, timeout_s)
        self._client = PrometheusConnect(
            url=self.provider.address, timeout=timeout_s, retry=Retry(total=0, read=False)
        )

    def read(
        self,
        namespace: str,
        workload: str,
        metrics: Sequence[MetricSpec],
        start: datetime,
        end: datetime,
        rollout: str | None = None,
    ) -> PeriodReading:
        window = WindowQuery(
            namespace=namespace,
            workloads={Version.CANARY: workload, Version.STABLE: workload},
            metrics=metrics,
            start=start,
            end=end,
            slice_started_at=start,
            rollout=rollout,
        )
        data = self.provider.read_window(window) if metrics else None
        samples = dict(data.observation.stable) if data else {}
        fired, problem = self._alerts_fired(namespace, start, end)
        problems = (*(data.problems if data else ()), *([problem] if problem else []))
        return PeriodReading(samples=samples, alerts_fired=fired, problems=problems)

    def _alerts_fired(
        self, namespace: str, start: datetime, end: datetime
    ) -> tuple[bool | None, str | None]:
        window = queries.prometheus_duration((end - start).total_seconds())
        promql = ALERTS_QUERY.format(namespace=namespace, window=window)
        try:
            result = self._client.custom_query(promql, params={"time": end.timestamp()})
        except (requests.RequestException, PrometheusApiClientException, KeyError) as error:
            where = self.provider.shown_address
            log.warning("alerts of %s from %s: %s", namespace, where, error)
            return None, f"Alerts of {namespace} could not be read from {where}: {error}"
        return bool(result), None
