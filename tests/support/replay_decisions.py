"""Replay a folder of scenarios through the rules judge; print every decision as JSON.

Run from the repository root as `python -m tests.support.replay_decisions FOLDER`. With
--sources, the compiled modules (hack/compiled-modules) are imported from their Python
sources instead of their extensions, so two runs compare the build with the code it was
built from. The output also names the file each module was loaded from.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.machinery
import importlib.util
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.support.compiled_core import REPO_ROOT, compiled_sources, module_name

SEEDS = range(1, 11)


class _SourceFinder:
    """Finds the compiled modules as plain source files, ahead of their extensions."""

    def __init__(self, sources: Mapping[str, Path]) -> None:
        self.sources = sources

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        source = self.sources.get(name)
        if source is None:
            return None
        loader = importlib.machinery.SourceFileLoader(name, str(source))
        return importlib.util.spec_from_file_location(name, source, loader=loader)


def replay(scenario_dir: Path) -> dict[str, Any]:
    from airollout.core.judge.rules import RulesJudge
    from airollout_tools.sim.scenario import load_folder
    from airollout_tools.sim.simulator import run_scenario

    class Recording:
        """The rules judge, keeping every decision (a wrapper: a compiled class is final)."""

        def __init__(self) -> None:
            self.judge = RulesJudge()
            self.name = self.judge.name
            self.decisions: list[Any] = []

        def initial_state(self, settings: Any) -> dict[str, Any]:
            return self.judge.initial_state(settings)

        def decide(self, settings: Any, state: Any, context: Any, window: Sequence[Any]) -> Any:
            verdict, new_state = self.judge.decide(settings, state, context, window)
            self.decisions.append([verdict.action, verdict.reasoning, verdict.metrics, new_state])
            return verdict, new_state

    runs = {}
    for scenario in load_folder(scenario_dir):
        for seed in SEEDS:
            judge = Recording()
            run_scenario(dataclasses.replace(scenario, seed=seed), judge)
            runs[f"{scenario.name}/{seed}"] = judge.decisions
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenarios", type=Path)
    parser.add_argument("--sources", action="store_true")
    args = parser.parse_args()
    if args.sources:
        paths = {module_name(s): REPO_ROOT / s for s in compiled_sources()}
        sys.meta_path.insert(0, _SourceFinder(paths))
    runs = replay(args.scenarios)
    loaded = {
        module_name(s): importlib.import_module(module_name(s)).__file__ for s in compiled_sources()
    }
    json.dump({"loaded": loaded, "runs": runs}, sys.stdout, default=dict)


if __name__ == "__main__":
    main()
