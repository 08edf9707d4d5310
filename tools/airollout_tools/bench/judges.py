"""The judges a benchmark can run, by name: the default judge, the peer baselines, the floor."""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from collections.abc import Callable

from airollout.core.judge.types import Judge
from airollout_tools.bench.baselines.always_hold import AlwaysHoldJudge
from airollout_tools.bench.baselines.argo_threshold import ArgoThresholdJudge
from airollout_tools.bench.baselines.argo_tuned import ArgoTunedJudge
from airollout_tools.bench.baselines.flagger_threshold import FlaggerThresholdJudge
from airollout_tools.bench.baselines.flagger_tuned import FlaggerTunedJudge
from airollout_tools.bench.baselines.kayenta_mwu import KayentaMwuJudge
from airollout_tools.bench.baselines.kayenta_tuned import KayentaTunedJudge

JudgeFactory = Callable[[], Judge]

DEFAULT_JUDGE = "airollout"
DEFAULT_JUDGE_MODULE = "airollout.core.judge.rules"

# Each peer at its defaults, then as a careful user configures it; always-hold is the floor.
BASELINES: dict[str, JudgeFactory] = {
    ArgoThresholdJudge.name: ArgoThresholdJudge,
    ArgoTunedJudge.name: ArgoTunedJudge,
    FlaggerThresholdJudge.name: FlaggerThresholdJudge,
    FlaggerTunedJudge.name: FlaggerTunedJudge,
    KayentaMwuJudge.name: KayentaMwuJudge,
    KayentaTunedJudge.name: KayentaTunedJudge,
    AlwaysHoldJudge.name: AlwaysHoldJudge,
}


def default_judge_factory() -> JudgeFactory | None:
    """The rules judge's class, imported only when asked for; None while it does not exist."""
    try:
        module = importlib.import_module(DEFAULT_JUDGE_MODULE)
    except ImportError:
        return None
    named = getattr(module, "RulesJudge", None)
    candidates = [named] if named is not None else list(vars(module).values())
    for candidate in candidates:
        if isinstance(candidate, type) and getattr(candidate, "name", None) == DEFAULT_JUDGE:
            factory: JudgeFactory = candidate
            return factory
    return None


def registry() -> dict[str, JudgeFactory]:
    """Every judge that can run now, the default judge first when it exists."""
    found = default_judge_factory()
    judges = {DEFAULT_JUDGE: found} if found is not None else {}
    judges.update(BASELINES)
    return judges


def is_compiled(factory: JudgeFactory) -> bool:
    """Whether the judge's module was imported from a compiled extension (hack/compile.sh)."""
    module = sys.modules.get(getattr(factory, "__module__", ""))
    path = getattr(module, "__file__", None) or ""
    return path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
