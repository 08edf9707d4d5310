"""Two CycloneDX SBOMs compared into the dependencies signal."""

from __future__ import annotations

from pathlib import Path

import pytest

from airollout.adapters.reports.common import ReportError
from airollout.adapters.reports.sbom import read_dependencies, read_packages

pytestmark = pytest.mark.unit
DATA = Path(__file__).parent / "data"
BUILD, BASELINE = DATA / "sbom_build.cdx.json", DATA / "sbom_baseline.cdx.json"


def test_added_removed_updated_and_licence_changes() -> None:
    reading = read_dependencies(BUILD, BASELINE)
    assert reading.signals == {
        "dependencies": {"added": 1, "updated": 2, "removed": 1, "licence_changes": 1}
    }
    notes = "\n".join(reading.notes)
    assert "added: pkg:pypi/charset-normalizer" in notes
    assert "removed: pkg:pypi/chardet" in notes
    assert "updated: pkg:pypi/requests, zones" in notes  # a nested component counts too
    assert "licence of pkg:pypi/redis: MIT -> MIT OR SSPL-1.0" in notes


def test_packages_are_keyed_by_purl_without_version_or_by_group_and_name() -> None:
    packages = read_packages(BASELINE)
    assert set(packages) == {
        "pkg:pypi/requests",
        "pkg:pypi/urllib3",
        "pkg:pypi/chardet",
        "pkg:pypi/redis",
        "vendor/tzdata",
        "zones",
    }
    assert packages["pkg:pypi/requests"].version == "2.31.0"
    assert packages["pkg:pypi/requests"].licences == {"Apache-2.0"}


def test_the_same_sbom_changes_nothing() -> None:
    assert read_dependencies(BUILD, BUILD).signals["dependencies"] == {
        "added": 0,
        "updated": 0,
        "removed": 0,
        "licence_changes": 0,
    }


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("spdx.json", "not a CycloneDX JSON SBOM"),
        ("sbom_malformed.cdx.json", "a malformed CycloneDX SBOM .*not-a-component-type"),
        ("truncated.xml", "not valid JSON"),
    ],
)
def test_a_non_cyclonedx_or_malformed_sbom_is_an_error_naming_it(name: str, problem: str) -> None:
    with pytest.raises(ReportError, match=problem) as raised:
        read_dependencies(DATA / name, BASELINE)
    assert str(raised.value).startswith(str(DATA / name))
