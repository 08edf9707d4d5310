"""Choosing the metric provider: the spec's own Prometheus, else the operator's default."""

from __future__ import annotations

import pytest

from airollout.adapters.metrics.prometheus import PrometheusProvider
from airollout.adapters.metrics.registry import provider_for
from airollout.core.resource.spec import AnalysisSpec, PrometheusSpec

pytestmark = pytest.mark.unit

OWN = "http://prometheus.shop:9090"
DEFAULT = "http://prometheus.monitoring:9090"


def test_the_spec_address_wins_over_the_default() -> None:
    provider = provider_for(AnalysisSpec(prometheus=PrometheusSpec(address=OWN)), DEFAULT)
    assert isinstance(provider, PrometheusProvider)
    assert provider.address == OWN


def test_without_a_spec_address_the_default_is_used() -> None:
    provider = provider_for(AnalysisSpec(), DEFAULT)
    assert isinstance(provider, PrometheusProvider)
    assert provider.address == DEFAULT


def test_without_any_address_there_is_no_provider() -> None:
    assert provider_for(AnalysisSpec(), None) is None


def test_rollouts_reading_one_address_share_one_provider() -> None:
    assert provider_for(AnalysisSpec(), DEFAULT) is provider_for(AnalysisSpec(), DEFAULT)
