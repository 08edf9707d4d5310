"""Whether a promoted version breached its bounds over the observation period."""

from __future__ import annotations

import pytest

from airollout.core.analysis.types import Histogram, Sample
from airollout.core.resource.spec import MetricSpec
from airollout.feedback.observation import breached, measured, metric_breached

pytestmark = pytest.mark.unit

ERRORS = MetricSpec(name="errors", kind="errorRate", errorQuery="e", totalQuery="t", max=0.01)
LATENCY = MetricSpec(name="p99", kind="latency", bucketsQuery="b", quantile=0.5, max=0.2)
GAUGE = MetricSpec(name="queue", kind="gauge", query="q", min=1.0, max=5.0)
UNBOUNDED = MetricSpec(name="cpu", kind="gauge", query="q")


def test_an_error_share_above_max_is_a_breach_and_at_max_is_not() -> None:
    assert metric_breached(ERRORS, Sample(errors=2, requests=100)) is True
    assert metric_breached(ERRORS, Sample(errors=1, requests=100)) is False


def test_no_requests_is_unknown_not_healthy() -> None:
    assert metric_breached(ERRORS, Sample(errors=0, requests=0)) is None
    assert metric_breached(ERRORS, Sample()) is None


def test_a_latency_quantile_is_read_from_the_histogram() -> None:
    slow = Histogram(edges=(0.1, 0.5, float("inf")), counts=(10.0, 90.0, 0.0))

    assert (measured(LATENCY, Sample(histogram=slow)) or 0.0) > 0.2
    assert metric_breached(LATENCY, Sample(histogram=slow)) is True


def test_a_gauge_below_min_or_above_max_breaches() -> None:
    assert metric_breached(GAUGE, Sample(value=0.5)) is True
    assert metric_breached(GAUGE, Sample(value=6.0)) is True
    assert metric_breached(GAUGE, Sample(value=3.0)) is False
    assert metric_breached(GAUGE, Sample(value=float("nan"))) is None


def test_one_breach_outweighs_missing_data() -> None:
    samples = {"errors": Sample(errors=5, requests=10)}

    assert breached([ERRORS, GAUGE], samples, alerts_fired=None) is True


def test_missing_data_without_a_breach_is_unknown() -> None:
    samples = {"errors": Sample(errors=0, requests=10)}

    assert breached([ERRORS, GAUGE], samples, alerts_fired=False) is None


def test_a_firing_alert_is_a_breach_even_with_healthy_metrics() -> None:
    samples = {"errors": Sample(errors=0, requests=10), "queue": Sample(value=2.0)}

    assert breached([ERRORS, GAUGE], samples, alerts_fired=True) is True
    assert breached([ERRORS, GAUGE], samples, alerts_fired=False) is False


def test_metrics_without_bounds_are_not_asked() -> None:
    assert breached([UNBOUNDED], {}, alerts_fired=False) is False
    assert breached([UNBOUNDED], {}, alerts_fired=None) is None
