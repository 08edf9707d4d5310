"""The judges a benchmark can run, by name: the default judge and the peer baselines."""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from collections.abc import Callable

from airollout.bench.baselines.argo_threshold import ArgoThresholdJudge
from airollout.bench.baselines.flagger_threshold import FlaggerThresholdJudge
from airollout.bench.baselines.kayenta_mwu import KayentaMwuJudge
from airollout.judge.types import Judge

JudgeFactory = Callable[[], Judge]

DEFAULT_JUDGE = "airollout"
DEFAULT_JUDGE_MODULE = "airollout.judge.rules"

BASELINES: dict[str, JudgeFactory] = {
    ArgoThresholdJudge.name: ArgoThresholdJudge,
    FlaggerThresholdJudge.name: FlaggerThresholdJudge,
    KayentaMwuJudge.name: KayentaMwuJudge,
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
