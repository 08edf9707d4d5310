"""Scenario files (format v1): load and validate them into frozen, typed objects.

The format is specified in the repository's `scenarios/README.md`. Every rejection names the
file and the field, so a person editing a folder of scenarios can fix it without reading code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import yaml

from airollout.core.judge.types import Action

FORMAT_VERSION = 1
BEHAVIOUR_FIELDS = ("error_rate", "latency_p50_ms", "latency_p99_ms")
TOP_LEVEL_FIELDS = frozenset(
    {
        "version",
        "name",
        "description",
        "expect",
        "accept",
        "slices",
        "window_s",
        "rps",
        "stable",
        "canary",
        "events",
        "bounds",
        "warmup_s",
        "step_s",
        "seed",
    }
)
EVENT_FIELDS = frozenset({"version", "from_s", "from_weight", "until_s", "set", "ramp", "missing"})


_E = TypeVar("_E", bound=StrEnum)


class ScenarioError(ValueError):
    """A scenario file that does not follow format v1; the message names file and field."""


class Target(StrEnum):
    """Which version an event changes."""

    CANARY = "canary"
    STABLE = "stable"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How one version serves requests at one moment."""

    error_rate: float = 0.001
    latency_p50_ms: float = 40.0
    latency_p99_ms: float = 200.0


@dataclass(frozen=True, slots=True)
class Bounds:
    """The hard bounds every judge is given."""

    error_rate: float = 0.005
    latency_p99_ms: float = 500.0


@dataclass(frozen=True, slots=True)
class Event:
    """A change over time; exactly one of `assign`, `ramp_per_min` or `missing` is in effect.

    It starts at `from_s` (simulated seconds) or once the canary weight reaches
    `from_weight` (percent), and ends at `until_s` when given.
    """

    target: Target
    from_s: float | None = None
    from_weight: float | None = None
    until_s: float | None = None
    assign: tuple[tuple[str, float], ...] = ()
    ramp_per_min: tuple[tuple[str, float], ...] = ()
    missing: bool = False

    def applies_to_canary(self) -> bool:
        return self.target in (Target.CANARY, Target.BOTH)

    def applies_to_stable(self) -> bool:
        return self.target in (Target.STABLE, Target.BOTH)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One rollout whose right outcome is known."""

    name: str
    expect: Action
    description: str = ""
    accept: tuple[Action, ...] = ()
    slices: tuple[int, ...] = (10, 25, 50, 100)
    window_s: float = 60.0
    rps: float = 100.0
    stable: Behaviour = Behaviour()
    canary: Behaviour = Behaviour()
    events: tuple[Event, ...] = ()
    bounds: Bounds = Bounds()
    warmup_s: float = 15.0
    step_s: float = 5.0
    seed: int = 1

    def is_right(self, outcome: Action) -> bool:
        return outcome == self.expect or outcome in self.accept


_DEFAULTS = Scenario(name="", expect=Action.PROCEED)


def load_scenario(path: str | Path) -> Scenario:
    """Read one scenario file; raise ScenarioError naming the file and the field."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path.name}: cannot read as YAML: {error}") from error
    return parse_scenario(document, source=path.name, default_name=path.stem)


def load_folder(folder: str | Path) -> tuple[Scenario, ...]:
    """Every `*.yaml` in a folder, sorted by file name."""
    return tuple(load_scenario(path) for path in sorted(Path(folder).glob("*.yaml")))


def parse_scenario(document: Any, *, source: str, default_name: str) -> Scenario:
    """Validate a parsed YAML document; `source` prefixes every error message."""
    fields = _Fields(source)
    doc = fields.mapping(document, "scenario")
    fields.reject_unknown(doc, TOP_LEVEL_FIELDS, "")
    version = doc.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION or isinstance(version, bool):
        fields.fail("version", f"must be {FORMAT_VERSION} (got {version!r})")
    if "expect" not in doc:
        fields.fail("expect", "is required (proceed, rollback or hold)")
    slices = _parse_slices(fields, doc.get("slices", _DEFAULTS.slices))
    window_s = fields.number(
        doc.get("window_s", _DEFAULTS.window_s), "window_s", low=0, open_low=True
    )
    step_s = fields.number(doc.get("step_s", _DEFAULTS.step_s), "step_s", low=0, open_low=True)
    if step_s > window_s:
        fields.fail("step_s", f"must not exceed window_s ({window_s:g})")
    return Scenario(
        name=fields.text(doc.get("name", default_name), "name"),
        description=fields.text(doc.get("description", ""), "description"),
        expect=fields.action(doc["expect"], "expect"),
        accept=tuple(
            fields.action(item, f"accept[{index}]")
            for index, item in enumerate(fields.sequence(doc.get("accept", []), "accept"))
        ),
        slices=slices,
        window_s=window_s,
        rps=fields.number(doc.get("rps", _DEFAULTS.rps), "rps", low=0),
        stable=_parse_behaviour(fields, doc.get("stable", {}), "stable"),
        canary=_parse_behaviour(fields, doc.get("canary", {}), "canary"),
        events=tuple(
            _parse_event(fields, item, f"events[{index}]")
            for index, item in enumerate(fields.sequence(doc.get("events", []), "events"))
        ),
        bounds=_parse_bounds(fields, doc.get("bounds", {})),
        warmup_s=fields.number(doc.get("warmup_s", _DEFAULTS.warmup_s), "warmup_s", low=0),
        step_s=step_s,
        seed=fields.integer(doc.get("seed", _DEFAULTS.seed), "seed"),
    )


def _parse_slices(fields: _Fields, raw: Any) -> tuple[int, ...]:
    items = fields.sequence(raw, "slices")
    if not items:
        fields.fail("slices", "must list at least one traffic percentage")
    slices = tuple(
        fields.integer(item, f"slices[{index}]", low=1, high=100)
        for index, item in enumerate(items)
    )
    for index in range(1, len(slices)):
        if slices[index] <= slices[index - 1]:
            fields.fail(f"slices[{index}]", "must be greater than the slice before it")
    if slices[-1] != 100:
        fields.fail(f"slices[{len(slices) - 1}]", "the last slice must be 100")
    return slices


def _parse_behaviour(fields: _Fields, raw: Any, where: str) -> Behaviour:
    values = fields.mapping(raw, where)
    fields.reject_unknown(values, frozenset(BEHAVIOUR_FIELDS), where)
    checked = {
        name: _behaviour_value(fields, value, f"{where}.{name}") for name, value in values.items()
    }
    behaviour = Behaviour(**checked)
    if behaviour.latency_p99_ms < behaviour.latency_p50_ms:
        fields.fail(f"{where}.latency_p99_ms", "must not be below latency_p50_ms")
    return behaviour


def _behaviour_value(fields: _Fields, value: Any, where: str) -> float:
    if where.endswith("error_rate"):
        return fields.number(value, where, low=0, high=1)
    return fields.number(value, where, low=0, open_low=True)


def _parse_bounds(fields: _Fields, raw: Any) -> Bounds:
    values = fields.mapping(raw, "bounds")
    fields.reject_unknown(values, frozenset({"error_rate", "latency_p99_ms"}), "bounds")
    checked = {
        name: _behaviour_value(fields, value, f"bounds.{name}") for name, value in values.items()
    }
    return Bounds(**checked)


def _parse_event(fields: _Fields, raw: Any, where: str) -> Event:
    doc = fields.mapping(raw, where)
    fields.reject_unknown(doc, EVENT_FIELDS, where)
    if "version" not in doc:
        fields.fail(f"{where}.version", "is required (canary, stable or both)")
    target = fields.choice(doc["version"], f"{where}.version", Target)
    if ("from_s" in doc) == ("from_weight" in doc):
        fields.fail(where, "needs exactly one of from_s or from_weight")
    from_s = fields.number(doc["from_s"], f"{where}.from_s", low=0) if "from_s" in doc else None
    from_weight = (
        fields.number(doc["from_weight"], f"{where}.from_weight", low=0, high=100)
        if "from_weight" in doc
        else None
    )
    until_s = fields.number(doc["until_s"], f"{where}.until_s", low=0) if "until_s" in doc else None
    if until_s is not None and from_s is not None and until_s <= from_s:
        fields.fail(f"{where}.until_s", f"must be after from_s ({from_s:g})")
    missing = doc.get("missing", False)
    if not isinstance(missing, bool):
        fields.fail(f"{where}.missing", "must be true or false")
    actions = [name for name in ("set", "ramp") if name in doc] + (["missing"] if missing else [])
    if len(actions) != 1:
        fields.fail(where, "must do exactly one of set, ramp or missing: true")
    return Event(
        target=target,
        from_s=from_s,
        from_weight=from_weight,
        until_s=until_s,
        assign=_parse_assign(fields, doc["set"], f"{where}.set") if "set" in doc else (),
        ramp_per_min=_parse_ramp(fields, doc["ramp"], f"{where}.ramp") if "ramp" in doc else (),
        missing=missing,
    )


def _parse_assign(fields: _Fields, raw: Any, where: str) -> tuple[tuple[str, float], ...]:
    values = fields.changes(raw, where)
    return tuple(
        (name, _behaviour_value(fields, value, f"{where}.{name}")) for name, value in values.items()
    )


def _parse_ramp(fields: _Fields, raw: Any, where: str) -> tuple[tuple[str, float], ...]:
    values = fields.changes(raw, where)
    return tuple((name, fields.number(value, f"{where}.{name}")) for name, value in values.items())


class _Fields:
    """Type checks that raise ScenarioError as `FILE: FIELD: problem`."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> NoReturn:
        prefix = f"{self.source}: {where}: " if where else f"{self.source}: "
        raise ScenarioError(prefix + problem)

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(where, f"must be a mapping (got {type(value).__name__})")
        return value

    def changes(self, value: Any, where: str) -> Mapping[str, Any]:
        values = self.mapping(value, where)
        self.reject_unknown(values, frozenset(BEHAVIOUR_FIELDS), where)
        if not values:
            self.fail(where, f"must change at least one of {', '.join(BEHAVIOUR_FIELDS)}")
        return values

    def sequence(self, value: Any, where: str) -> Sequence[Any]:
        if not isinstance(value, list | tuple):
            self.fail(where, f"must be a list (got {type(value).__name__})")
        return value

    def reject_unknown(self, values: Mapping[str, Any], known: frozenset[str], where: str) -> None:
        for key in values:
            if key not in known:
                field = f"{where}.{key}" if where else str(key)
                self.fail(field, f"unknown field (known: {', '.join(sorted(known))})")

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            self.fail(where, "must be a string")
        return value

    def number(
        self,
        value: Any,
        where: str,
        *,
        low: float | None = None,
        high: float | None = None,
        open_low: bool = False,
    ) -> float:
        in_range = isinstance(value, int | float) and not isinstance(value, bool)
        if in_range and value != value:  # NaN
            in_range = False
        if in_range and low is not None:
            in_range = value > low if open_low else value >= low
        if in_range and high is not None:
            in_range = value <= high
        if not in_range:
            self.fail(where, f"must be a number {_describe_range(low, high, open_low)}".rstrip())
        return float(value)

    def integer(
        self, value: Any, where: str, *, low: int | None = None, high: int | None = None
    ) -> int:
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if not is_int or (low is not None and value < low) or (high is not None and value > high):
            self.fail(where, f"must be an integer {_describe_range(low, high, False)}".rstrip())
        return int(value)

    def action(self, value: Any, where: str) -> Action:
        return self.choice(value, where, Action)

    def choice(self, value: Any, where: str, options: type[_E]) -> _E:
        names = [option.value for option in options]
        if value not in names:
            self.fail(where, f"must be one of {', '.join(names)} (got {value!r})")
        return options(value)


def _describe_range(low: float | None, high: float | None, open_low: bool) -> str:
    if low is not None and high is not None:
        opening = "(" if open_low else "["
        return f"in {opening}{low:g}, {high:g}]"
    if low is not None:
        return f"{'>' if open_low else '>='} {low:g}"
    if high is not None:
        return f"<= {high:g}"
    return ""
