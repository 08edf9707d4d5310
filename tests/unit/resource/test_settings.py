import pytest

from airollout.core.resource.kinds import MetricKind
from airollout.core.resource.spec import AnalysisSpec
from airollout.core.rollout.judge_input import analysis_settings

pytestmark = pytest.mark.unit


def test_analysis_section_becomes_the_settings_the_judges_read() -> None:
    spec = AnalysisSpec.model_validate(
        {
            "interval": "1m",
            "warmup": "45s",
            "alpha": 0.05,
            "tolerance": 0.2,
            "metrics": [
                {
                    "name": "errors",
                    "kind": "errorRate",
                    "errorQuery": "e",
                    "totalQuery": "t",
                    "max": 0.01,
                },
                {
                    "name": "p95",
                    "kind": "latency",
                    "bucketsQuery": "b",
                    "quantile": 0.95,
                    "compare": "baseline",
                },
                {"name": "cpu", "query": "q", "min": 0.1, "max": 2, "compare": "none"},
            ],
        }
    )

    settings = analysis_settings(spec)

    assert settings.warmup_s == 45.0
    assert settings.alpha == 0.05
    assert settings.tolerance == 0.2
    errors, p95, cpu = settings.metrics
    assert (errors.name, errors.kind, errors.max, errors.min) == (
        "errors",
        MetricKind.ERROR_RATE,
        0.01,
        None,
    )
    assert errors.compare_baseline is True
    assert (p95.kind, p95.quantile, p95.max) == (MetricKind.LATENCY, 0.95, None)
    assert (cpu.kind, cpu.min, cpu.max, cpu.compare_baseline) == (MetricKind.GAUGE, 0.1, 2, False)


def test_defaults_follow_the_documented_statistics() -> None:
    settings = analysis_settings(AnalysisSpec())

    assert settings.metrics == ()
    assert settings.warmup_s == 30.0
    assert settings.alpha == 0.01
    assert settings.tolerance == 0.1
