"""Escalation rules and suites, from `.airollout/selection.yaml` in the target repository.

Coverage cannot see every way a change reaches a test: build and CI files, lock files,
conftest.py, data files, files the index never saw, an index far behind the change. Each
such rule widens the selection (a directory's tests, a suite, the full suite) and says why.
The repository's own rules are tried before the defaults; the first rule that matches wins.
"""

from __future__ import annotations

import dataclasses
import functools
import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Any

from airollout.core.selection.index import SelectionInputError

FULL_SUITE, DIRECTORY, SUITE, IMPORTERS, HEAD_IMPORTERS, IGNORE = (
    "full_suite",
    "directory",
    "suite",
    "importers",
    "head_importers",
    "ignore",
)
ACTIONS = (FULL_SUITE, DIRECTORY, SUITE, IMPORTERS, HEAD_IMPORTERS, IGNORE)
RISKS = ("low", "medium", "high")


@dataclasses.dataclass(frozen=True)
class Escalation:
    action: str
    risk: str
    reason: str
    suites: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    paths: tuple[str, ...]
    then: Escalation

    def matches(self, path: str) -> bool:
        return any(glob_matches(pattern, path) for pattern in self.paths)


@dataclasses.dataclass(frozen=True)
class Suite:
    name: str
    paths: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()

    def holds(self, test_path: str, markers: Sequence[str]) -> bool:
        return any(glob_matches(p, test_path) for p in self.paths) or not set(
            self.markers
        ).isdisjoint(markers)


@dataclasses.dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    suites: tuple[Suite, ...] = ()
    test_paths: tuple[str, ...] = ("**/test_*.py", "**/*_test.py")
    unseen_module: Escalation = Escalation(
        IGNORE, "medium", "a new module runs only through the changed files that import it"
    )
    # a Python module newer than the index (but not new in this change): the index cannot
    # tell who uses it, the head tree's import graph can
    unseen_python: Escalation = Escalation(
        HEAD_IMPORTERS,
        "medium",
        "the index never saw this file: the head's import graph names the tests that use it",
    )
    unseen_file: Escalation = Escalation(
        FULL_SUITE, "high", "the index never saw this file, so it cannot tell who uses it"
    )
    stale_index: Escalation = Escalation(
        FULL_SUITE, "high", "the index is too far behind the change to trust its coverage"
    )
    stale_after_commits: int = 200

    def rule_for(self, path: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.matches(path)), None)

    def is_test_file(self, path: str) -> bool:
        return path.endswith(".py") and any(glob_matches(p, path) for p in self.test_paths)


def _rule(name: str, paths: Sequence[str], action: str, risk: str, reason: str) -> Rule:
    return Rule(name, tuple(paths), Escalation(action, risk, reason))


DEFAULT_RULES = (
    _rule(
        "build",
        [
            *("pyproject.toml", "setup.py", "setup.cfg", "tox.ini", "noxfile.py", "Makefile"),
            *("*.mk", "Dockerfile", ".github/**", ".ci/**", ".gitlab-ci.yml"),
        ],
        FULL_SUITE,
        "high",
        "a build or CI file changes how every test runs",
    ),
    _rule(
        "locks",
        ["*.lock", "requirements*.txt", "constraints*.txt", "Pipfile.lock"],
        FULL_SUITE,
        "high",
        "a lock file changes the dependencies every test imports",
    ),
    _rule(
        "pytest",
        ["conftest.py", "pytest.ini", ".coveragerc"],
        FULL_SUITE,
        "high",
        "conftest.py or pytest's configuration can change any test's fixtures or collection",
    ),
    _rule(
        "docs",
        ["*.md", "*.rst", "docs/**", "LICENSE*", ".gitignore", ".gitattributes"],
        IGNORE,
        "low",
        "documentation: no test runs it",
    ),
    _rule(
        "data",
        [
            *("**/fixtures/**", "**/testdata/**", "**/data/**", "*.json", "*.yaml", "*.yml"),
            *("*.csv", "*.toml", "*.txt", "*.cfg", "*.ini", "*.sql", "*.xml"),
        ],
        DIRECTORY,
        "medium",
        "a data file: coverage cannot see which tests read it, so the tests beside it run",
    ),
)
DEFAULT_RULES_ONLY = Rules(DEFAULT_RULES)


def rules_from_config(config: Any, where: str) -> Rules:
    """The rules of a parsed selection.yaml (None: the defaults)."""
    if config is None:
        return DEFAULT_RULES_ONLY
    if not isinstance(config, Mapping):
        raise SelectionInputError(f"{where}: must be a mapping")
    own = tuple(
        _rule_from(entry, f"{where}: rules[{n}]") for n, entry in enumerate(config.get("rules", []))
    )
    defaults = DEFAULT_RULES if config.get("use_default_rules", True) else ()
    base = DEFAULT_RULES_ONLY
    stale = config.get("stale_after_commits", base.stale_after_commits)
    if not isinstance(stale, int) or stale < 0:
        raise SelectionInputError(f"{where}: stale_after_commits must be an integer >= 0")
    return Rules(
        rules=own + defaults,
        suites=tuple(
            _suite_from(name, entry, f"{where}: suites.{name}")
            for name, entry in _mapping(config, "suites", where).items()
        ),
        test_paths=tuple(_strings(config, "test_paths", where) or base.test_paths),
        unseen_module=_escalation_or(config, "unseen_module", base.unseen_module, where),
        unseen_python=_escalation_or(config, "unseen_python", base.unseen_python, where),
        unseen_file=_escalation_or(config, "unseen_file", base.unseen_file, where),
        stale_index=_escalation_or(config, "stale_index", base.stale_index, where),
        stale_after_commits=stale,
    )


def _rule_from(entry: Any, where: str) -> Rule:
    if not isinstance(entry, Mapping):
        raise SelectionInputError(f"{where}: must be a mapping")
    paths = _strings(entry, "paths", where)
    if not paths:
        raise SelectionInputError(f"{where}.paths: needs at least one pattern")
    name = str(entry.get("name", where))
    return Rule(name, tuple(paths), _escalation_from(entry, where, f"rule {name}"))


def _escalation_or(
    config: Mapping[str, Any], key: str, default: Escalation, where: str
) -> Escalation:
    entry = config.get(key)
    if entry is None:
        return default
    if not isinstance(entry, Mapping):
        raise SelectionInputError(f"{where}: {key} must be a mapping")
    return _escalation_from(entry, f"{where}: {key}", default.reason)


def _escalation_from(entry: Mapping[str, Any], where: str, default_reason: str) -> Escalation:
    action = entry.get("action", FULL_SUITE)
    if action not in ACTIONS:
        raise SelectionInputError(f"{where}.action: must be one of {', '.join(ACTIONS)}")
    risk = entry.get("risk", "high" if action == FULL_SUITE else "medium")
    if risk not in RISKS:
        raise SelectionInputError(f"{where}.risk: must be one of {', '.join(RISKS)}")
    suites = _strings(entry, "suites", where)
    if action == SUITE and not suites:
        raise SelectionInputError(f"{where}.suites: action 'suite' needs suite names")
    return Escalation(action, risk, str(entry.get("reason", default_reason)), tuple(suites))


def _suite_from(name: str, entry: Any, where: str) -> Suite:
    if not isinstance(entry, Mapping):
        raise SelectionInputError(f"{where}: must be a mapping with paths and/or markers")
    paths, markers = _strings(entry, "paths", where), _strings(entry, "markers", where)
    suite = Suite(name, tuple(paths), tuple(markers))
    if not suite.paths and not suite.markers:
        raise SelectionInputError(f"{where}: needs paths or markers")
    return suite


def _mapping(config: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = config.get(key, {})
    if not isinstance(value, Mapping):
        raise SelectionInputError(f"{where}: {key} must be a mapping")
    return value


def _strings(config: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = config.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SelectionInputError(f"{where}.{key}: must be a list of strings")
    return value


def named_after(test_file: str, module: str) -> bool:
    """`test_plan.py`, `test_plan_*.py` or `plan_test.py` for `plan.py` (a package's
    `__init__.py` goes by the package's name)."""
    stem = posixpath.basename(module).removesuffix(".py")
    if stem == "__init__":
        stem = posixpath.basename(posixpath.dirname(module))
    name = posixpath.basename(test_file).removesuffix(".py")
    return name in (f"test_{stem}", f"{stem}_test") or name.startswith(f"test_{stem}_")


def glob_matches(pattern: str, path: str) -> bool:
    """gitignore-like: a pattern without '/' matches a name at any depth, `**` any folders,
    a trailing '/' everything under that folder."""
    return _compiled(pattern).fullmatch(path) is not None


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("/"):
        pattern += "**"
    anchored = "/" in pattern.rstrip("/")
    out = "" if anchored else "(?:.*/)?"
    position = 0
    while position < len(pattern):
        if pattern.startswith("**/", position):
            out, position = out + "(?:.*/)?", position + 3
        elif pattern.startswith("**", position):
            out, position = out + ".*", position + 2
        else:
            char = pattern[position]
            out += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
            position += 1
    return re.compile(out)
