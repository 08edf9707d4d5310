"""Anytime-valid sequential tests as mixtures of likelihood ratios over fixed grids.

Each test keeps one log likelihood ratio per alternative on a small fixed grid; the mixture
(the mean of the ratios) is an e-process under the composite null, so rejecting when it
reaches 1/alpha holds the false-alarm level however often it is looked at (Ville's
inequality). The state is a plain list of floats: JSON-serialisable and cheap to update.

Two families:

- a rate against a reference (a hard bound): events in an exposure are Poisson with rate
  p. The ratio for p1 = r * b against b is r**x * exp(-n*b*(r-1)); with r > 1 its mean is at
  most 1 whenever p <= b ("not breached" as null). Binomial events are covered too, because
  (1-p+p*r)**n <= exp(n*p*(r-1)).
- a rate ratio theta = canary rate / stable rate: given the total events of a step, the
  canary's share is Binomial(total, theta*w / (theta*w + 1)) with w the exposure ratio, so
  the nuisance stable rate drops out (Lindon et al., KDD 2022, use the same conditioning).
  Traffic shares may change between steps: w is taken per step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache


# Compared by identity (eq=False): a grid is a module constant, and identity hashing keeps
# the cache of ratio-test terms below cheap to look up.
@dataclass(frozen=True, slots=True, eq=False)
class Grid:
    """Alternatives of one test, as multiples of the null value, with their logarithms."""

    multipliers: tuple[float, ...]
    log_multipliers: tuple[float, ...]
    excesses: tuple[float, ...]  # m - 1, the rate test's exposure term per alternative

    @classmethod
    def of(cls, multipliers: Sequence[float]) -> Grid:
        return cls(
            tuple(multipliers),
            tuple(math.log(m) for m in multipliers),
            tuple(m - 1.0 for m in multipliers),
        )

    def start(self) -> list[float]:
        """The log ratios before any data: every alternative at ratio 1."""
        return [0.0] * len(self.multipliers)


# "Rate above the bound": breaches from a quarter above the bound to twenty times it.
BREACH = Grid.of((1.25, 1.6, 2.2, 3.5, 6.0, 20.0))
# "Canary worse than stable beyond tolerance": ratios above (1 + tolerance).
WORSE = Grid.of((1.3, 1.7, 2.5, 4.0, 8.0, 30.0))
# "Canary not worse than stable beyond tolerance": ratios below (1 + tolerance).
NOT_WORSE = Grid.of((0.25, 0.5, 0.7, 0.85))


def fold_rate(
    log_ratios: list[float], grid: Grid, events: float, exposure: float, reference: float
) -> list[float]:
    """Add one step of `events` in `exposure` to the test of a rate against `reference`."""
    _check_width(log_ratios, grid)
    expected = exposure * reference
    log_ms, excesses = grid.log_multipliers, grid.excesses
    # Indexed rather than zipped: a compiled build then keeps every term a plain double.
    return [log_ratios[i] + events * log_ms[i] - expected * excesses[i] for i in range(len(log_ms))]


def fold_ratio(
    log_ratios: list[float],
    grid: Grid,
    null_ratio: float,
    canary: tuple[float, float],
    stable: tuple[float, float],
) -> list[float]:
    """Add one step of (events, exposure) per version to the test of the rate ratio.

    Steps where either version had no exposure, or no version had an event, carry no
    information about the ratio and leave the state unchanged.
    """
    _check_width(log_ratios, grid)
    canary_events, canary_exposure = canary
    stable_events, stable_exposure = stable
    total = canary_events + stable_events
    if canary_exposure <= 0.0 or stable_exposure <= 0.0 or total <= 0.0:
        return list(log_ratios)
    per_event = _ratio_terms(grid, null_ratio * canary_exposure / stable_exposure)
    log_ms = grid.log_multipliers
    return [
        log_ratios[i] + canary_events * log_ms[i] + total * per_event[i] for i in range(len(log_ms))
    ]


def _check_width(log_ratios: list[float], grid: Grid) -> None:
    """A saved state must hold one log ratio per alternative of its grid."""
    if len(log_ratios) != len(grid.multipliers):
        raise ValueError(
            f"a test state holds {len(log_ratios)} log ratios; its grid has "
            f"{len(grid.multipliers)} alternatives"
        )


# Small on purpose: it serves the tests of one window, not repeats of old windows.
@lru_cache(maxsize=8)
def _ratio_terms(grid: Grid, weight: float) -> tuple[float, ...]:
    """Each alternative's log ratio per event of the step's total, given the weighted share.

    Tests of one window's exposures (errors, and latency above each edge) share the weight,
    so these logarithms are computed once per window rather than once per test.
    """
    null_term = math.log1p(weight)
    return tuple(null_term - math.log1p(weight * m) for m in grid.multipliers)


# The largest e-value recorded, so a JSON record never holds infinity; far past any level.
EVALUE_CAP = math.exp(700.0)


def shown_evalue(value: float) -> str:
    """An e-value as messages show it; the cap is a stand-in, so it is named, not printed."""
    return "beyond 10^300" if value >= EVALUE_CAP else format(value, ".3g")


def evalue(log_ratios: Sequence[float]) -> float:
    """The mixture e-value itself: the mean likelihood ratio, capped at EVALUE_CAP."""
    total = 0.0
    try:
        for log_ratio in log_ratios:
            total += math.exp(log_ratio)
    except OverflowError:  # a ratio beyond exp(709): far past the cap anyway
        return EVALUE_CAP
    mean = total / len(log_ratios)
    return mean if mean < EVALUE_CAP else EVALUE_CAP
