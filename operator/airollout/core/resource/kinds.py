"""The kinds of metric a spec can name; analysis reads each kind its own way."""

from __future__ import annotations

from enum import StrEnum


class MetricKind(StrEnum):
    """How a metric's samples are read: counts of failures, a latency histogram, or a gauge."""

    ERROR_RATE = "errorRate"
    LATENCY = "latency"
    GAUGE = "gauge"
