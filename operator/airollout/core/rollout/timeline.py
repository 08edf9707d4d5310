"""Times as the status keeps them (RFC 3339 strings) and the arithmetic the machine needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def to_rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def from_rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def later(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)


def seconds_since(text: str, now: datetime) -> float:
    return (now - from_rfc3339(text)).total_seconds()
