"""The dependencies signal: what changed between two CycloneDX JSON SBOMs (build, baseline).

cyclonedx-python-lib deserializes the document (spec 1.2 to 1.6: nested components, both
licence forms), so this module only compares. A package is known by its purl without the
version (`pkg:pypi/requests`), or by group and name when it has no purl; `updated` means
the same package at another version; a licence change is a package present in both whose
set of licences (SPDX ids, names or expressions) differs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component

from airollout.adapters.reports.common import Reading, ReportError, json_object

SHOWN = 10


@dataclasses.dataclass(frozen=True)
class Package:
    version: str
    licences: frozenset[str]


def read_dependencies(build: Path, baseline: Path) -> Reading:
    ours, theirs = read_packages(build), read_packages(baseline)
    added = sorted(set(ours) - set(theirs))
    removed = sorted(set(theirs) - set(ours))
    both = sorted(set(ours) & set(theirs))
    updated = [key for key in both if ours[key].version != theirs[key].version]
    relicensed = [key for key in both if ours[key].licences != theirs[key].licences]
    signal = {
        "added": len(added),
        "updated": len(updated),
        "removed": len(removed),
        "licence_changes": len(relicensed),
    }
    notes = [
        f"dependencies: {len(ours)} packages against the baseline's {len(theirs)}:"
        f" {len(added)} added, {len(updated)} updated, {len(removed)} removed,"
        f" {len(relicensed)} licence change(s)"
    ]
    for label, keys in (("added", added), ("updated", updated), ("removed", removed)):
        if keys:
            notes.append(f"dependencies {label}: {_shown(keys)}")
    notes += [
        f"licence of {key}: {_licences(theirs[key])} -> {_licences(ours[key])}"
        for key in relicensed[:SHOWN]
    ]
    return Reading({"dependencies": signal}, tuple(notes))


def read_packages(path: Path) -> dict[str, Package]:
    data = json_object(path, "CycloneDX JSON SBOM")
    if data.get("bomFormat") != "CycloneDX":
        raise ReportError(f"{path}: not a CycloneDX JSON SBOM (bomFormat is not 'CycloneDX')")
    try:
        bom = Bom.from_json(data)  # type: ignore[attr-defined]
    except Exception as error:  # the library raises many kinds; each is a malformed SBOM
        raise ReportError(f"{path}: a malformed CycloneDX SBOM ({error})") from None
    packages: dict[str, Package] = {}
    for component in _all(bom.components):
        version = str(component.version or "")
        packages[_key(component)] = Package(version, frozenset(_licence_names(component)))
    return packages


def _all(components: Iterable[Component]) -> Iterator[Component]:
    for component in components:
        yield component
        yield from _all(component.components)


def _key(component: Component) -> str:
    purl = component.purl
    if purl is not None:
        return str(purl.to_string()).split("@", 1)[0].split("?", 1)[0]
    return f"{component.group}/{component.name}" if component.group else str(component.name)


def _licence_names(component: Component) -> Iterator[str]:
    for licence in component.licenses:
        name: Any = getattr(licence, "id", None) or getattr(licence, "name", None)
        yield str(name or getattr(licence, "value", ""))


def _licences(package: Package) -> str:
    return " + ".join(sorted(package.licences)) or "none"


def _shown(keys: list[str]) -> str:
    more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
    return ", ".join(keys[:SHOWN]) + more
