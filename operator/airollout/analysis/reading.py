"""Reading a pair of opposite sequential tests as one outcome with its sentence.

Every rate test here comes as a pair: evidence that something is wrong (rejects at 1/alpha,
the false-alarm level) and evidence that it is fine (rejects at 1/proceed_alpha). The
"wrong" side is read first, so a failure is never masked by earlier good news.
"""

from __future__ import annotations

from collections.abc import Sequence

from airollout.analysis import sequential
from airollout.analysis.types import AnalysisSettings, Outcome, TestResult


def read_pair(
    test: str,
    fail_log_ratios: Sequence[float],
    pass_log_ratios: Sequence[float],
    settings: AnalysisSettings,
    observed: tuple[str, float | None],
    threshold: float,
) -> TestResult:
    """`observed` is (what was seen, in words; the statistic) and `threshold` the null value."""
    seen, statistic = observed
    against = sequential.evalue(fail_log_ratios)
    fail_at = 1.0 / settings.alpha
    if against >= fail_at:
        message = f"{seen} is above {threshold:.4g} with e-value {against:.3g} >= {fail_at:.3g}."
        return TestResult(test, Outcome.FAIL, statistic, threshold, against, message)
    towards = sequential.evalue(pass_log_ratios)
    pass_at = 1.0 / settings.proceed_alpha
    if towards >= pass_at:
        message = f"{seen} is below {threshold:.4g} with e-value {towards:.3g} >= {pass_at:.3g}."
        return TestResult(test, Outcome.PASS, statistic, threshold, towards, message)
    message = (
        f"{seen} is not yet shown above or below {threshold:.4g} "
        f"(e-values {against:.3g} of {fail_at:.3g} and {towards:.3g} of {pass_at:.3g})."
    )
    return TestResult(test, Outcome.NOT_YET, statistic, threshold, against, message)
