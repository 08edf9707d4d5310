"""The evidence survives the trip through the status subresource's JSON merge patch.

A merge patch deletes every key whose value is null, so what the next reconcile reads back
lacks the keys that were None (a latency edge not chosen yet after a window without canary
data). The chaos e2e test found the judge raising KeyError on such a state at every tick.
"""

from __future__ import annotations

from typing import Any

import pytest

from airollout.core.analysis.evaluate import evaluate_window, initial_state
from airollout.core.analysis.types import Observation, Sample
from tests.unit.analysis.test_evaluate import HEALTHY, SETTINGS, _version, _window

pytestmark = pytest.mark.unit


def _as_merge_patched(value: Any) -> Any:
    """What the apiserver keeps of `value` written by a merge patch: no null members."""
    if isinstance(value, dict):
        return {key: _as_merge_patched(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_as_merge_patched(item) for item in value]
    return value


@pytest.mark.parametrize("stable_reports", [True, False], ids=["stable-reports", "both-silent"])
def test_a_state_without_its_null_keys_resumes_as_the_state_with_them(
    stable_reports: bool,
) -> None:
    silent = {"errors": Sample(), "latency": Sample()}
    stable = _version(900.0, 1.0, 1.0) if stable_reports else silent
    no_canary: list[Observation] = _window(silent, stable)
    _, state = evaluate_window(SETTINGS, initial_state(), 0, no_canary)
    stripped = _as_merge_patched(state)
    assert stripped != state  # the no-data window left keys at None

    resumed, resumed_state = evaluate_window(SETTINGS, stripped, 0, HEALTHY)
    expected, expected_state = evaluate_window(SETTINGS, state, 0, HEALTHY)
    assert resumed == expected
    assert _as_merge_patched(resumed_state) == _as_merge_patched(expected_state)
