"""Numbers as people read them in verdicts: fractions as percent, latencies in milliseconds.

The spec gives an error-rate bound as a fraction (0.005) and a latency bound in the
histogram's unit (seconds, by Prometheus's convention); people read "0.5 %" and "500 ms".
Messages never show a stand-in value: a figure that is not known is said in words.
"""

from __future__ import annotations

import math


def percent(fraction: float) -> str:
    """0.052 -> "5.2 %", 0.0005 -> "0.05 %"; two significant digits, never an exponent."""
    if not math.isfinite(fraction):
        return "an unknown share"
    value = fraction * 100.0
    if value == 0.0:
        return "0 %"
    if value >= 10.0:
        return format(value, ".0f") + " %"
    if value < 0.001:
        return "under 0.001 %"
    return _trimmed(format(value, ".2g") if value >= 1.0 else _two_digits(value)) + " %"


def milliseconds(value: float, seconds_per_unit: float) -> str:
    """A latency in the metric's unit as milliseconds: 0.21 s -> "210 ms"."""
    ms = value * seconds_per_unit * 1000.0
    if not math.isfinite(ms):
        return "an unknown time"
    if ms >= 100.0:
        return format(ms, ".0f") + " ms"
    if ms >= 1.0:
        return _trimmed(format(ms, ".1f")) + " ms"
    return _trimmed(_two_digits(ms)) + " ms"


def count(value: float) -> str:
    """A count of requests or events, whole."""
    return format(value, ".0f")


def ratio(value: float) -> str:
    """A canary/stable ratio: "2.5 times"."""
    return _trimmed(format(value, ".2g") if value < 10.0 else format(value, ".0f"))


def _two_digits(value: float) -> str:
    """Two significant digits in fixed notation, for values below 1."""
    decimals = max(1, 1 - math.floor(math.log10(value)))
    return format(value, f".{decimals}f")


def _trimmed(text: str) -> str:
    if "e" in text or "." not in text:
        return text
    return text.rstrip("0").rstrip(".")
