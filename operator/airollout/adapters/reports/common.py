"""What every report reader shares: its result, its error, and reading a JSON file."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class ReportError(ValueError):
    """A report that cannot be read; the message starts with the file's path."""


@dataclasses.dataclass(frozen=True)
class Reading:
    """A reader's part of the v1 signals object, and sentences saying what it read."""

    signals: Mapping[str, Any]
    notes: tuple[str, ...] = ()


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ReportError(f"{path}: cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ReportError(f"{path}: is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(
            f"{path}: is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None


def json_object(path: Path, what: str) -> Mapping[str, Any]:
    """The file's top-level JSON object; `what` names the format expected, for the error."""
    data = read_json(path)
    if not isinstance(data, Mapping):
        raise ReportError(f"{path}: is not a {what} (its JSON is not an object)")
    return data


def merge(readings: list[Reading]) -> Reading:
    """One reading from several whose signals do not overlap (one reader per signal)."""
    signals: dict[str, Any] = {}
    notes: list[str] = []
    for reading in readings:
        signals.update(reading.signals)
        notes.extend(reading.notes)
    return Reading(signals, tuple(notes))
