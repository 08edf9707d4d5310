"""Which metric provider reads a rollout's windows; the one place a new source registers."""

from __future__ import annotations

from functools import lru_cache

from airollout.adapters.metrics.prometheus import PrometheusProvider
from airollout.adapters.metrics.source import MetricsProvider
from airollout.core.resource.spec import AnalysisSpec


@lru_cache(maxsize=64)
def _prometheus(address: str) -> PrometheusProvider:
    """One provider per address, so every rollout reading it shares one connection pool."""
    return PrometheusProvider(address)


def provider_for(spec: AnalysisSpec, default_address: str | None) -> MetricsProvider | None:
    """The provider for `spec`: its own Prometheus, else the operator-wide one, else None.

    None means nowhere to read from; with metrics to judge, that is no data (a hold).
    """
    address = spec.prometheus.address if spec.prometheus is not None else default_address
    if not address:
        return None
    return _prometheus(address)
