"""`airollout feedback`'s arguments: scope, durations and rates, bad values named."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from airollout.cli.feedback import loop_options
from airollout.cli.main import build_parser

pytestmark = pytest.mark.unit


def parsed(*argv: str) -> Any:
    return build_parser("feedback").parse_args(["feedback", *argv])


def test_namespaces_repeat_and_default_to_the_context() -> None:
    chosen = loop_options(parsed("run", "-n", "shop", "-n", "payments"), "default")
    default = loop_options(parsed("run"), "ops")
    everywhere = loop_options(parsed("run", "--all-namespaces"), "ops")

    assert chosen.namespaces == ("shop", "payments")
    assert (default.namespaces, default.policy_namespace) == (("ops",), "ops")
    assert everywhere.namespaces == ()


def test_the_observation_is_a_duration() -> None:
    assert parsed("run", "--observation", "90m").observation == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--observation", "soon"), ("--target-false-promotion-rate", "1.5")],
)
def test_a_bad_value_exits_2_naming_the_flag(flag: str, value: str, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exited:
        parsed("run", flag, value)

    assert exited.value.code == 2
    assert flag in capsys.readouterr().err


def test_namespace_and_all_namespaces_exclude_each_other(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        parsed("report", "--out", "r", "-n", "shop", "--all-namespaces")

    assert "not allowed with" in capsys.readouterr().err
