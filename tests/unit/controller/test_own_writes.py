"""A tick that kopf hands the version our own last write replaced is skipped, boundedly."""

from __future__ import annotations

import pytest

from airollout.controller.handlers import OwnWrites

pytestmark = pytest.mark.unit


def test_the_version_a_write_replaced_is_skipped_until_the_watch_shows_a_newer_one() -> None:
    writes = OwnWrites()
    writes.wrote("uid-1", "10", "11")
    assert writes.behind("uid-1", "10"), "kopf's view still shows what we wrote over"
    assert not writes.behind("uid-2", "10"), "another rollout is not held back"
    assert not writes.behind("uid-1", "11"), "our write is seen: reconcile"
    assert not writes.behind("uid-1", "10"), "forgotten once passed"


def test_a_reconcile_that_wrote_nothing_new_holds_no_tick_back() -> None:
    writes = OwnWrites()
    writes.wrote("uid-1", "10", None)  # no status write
    assert not writes.behind("uid-1", "10")
    writes.wrote("uid-1", "10", "10")  # a write that changed nothing keeps the version
    assert not writes.behind("uid-1", "10"), "waiting for a version that never comes"


def test_a_watch_that_never_shows_the_write_holds_back_only_a_few_ticks() -> None:
    writes = OwnWrites(max_skips=2)
    writes.wrote("uid-1", "10", "11")
    assert [writes.behind("uid-1", "10") for _ in range(4)] == [True, True, False, False]
