"""Durations as people write them in manifests (`30s`, `2m`, `1h30m`, `500ms`), in seconds."""

from __future__ import annotations

import re

# Units in descending order, each at most once, so `1h30m` reads one way and `30s1h` is an
# error. RE2-compatible (no look-around) because the apiserver checks the same pattern.
DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$"
DURATION_EXAMPLES = "30s, 2m or 1h30m"

_DURATION = re.compile(DURATION_PATTERN)
_SECONDS_PER_UNIT = (3600.0, 60.0, 1.0, 0.001)


class DurationError(ValueError):
    """A string that is not a duration; the message says what one looks like."""


def parse_duration(text: str) -> float:
    """Seconds in `text`, a duration such as `30s`, `2m`, `1h30m` or `500ms`."""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise DurationError(f"must be a duration such as {DURATION_EXAMPLES}, got {text!r}")
    return sum(
        float(part[: -len(unit)]) * seconds
        for part, unit, seconds in zip(
            match.groups(), ("h", "m", "s", "ms"), _SECONDS_PER_UNIT, strict=True
        )
        if part is not None
    )
