"""The action's select and promotion stages, run for real by act on this host (see
test_github_action_act.py for how act runs here): their outputs are the CLI's own."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcluster.layout import bin_dir_from_env
from tests.e2e.operator_harness import REPO
from tests.e2e.test_github_action_act import path_with_cli
from tests.unit.selection.test_select_cli_repo import SUB, change, indexed

pytestmark = pytest.mark.e2e
__all__ = ["indexed"]  # the module-scoped indexed repository fixture, used here by name

ACT_TIMEOUT_SECONDS = 300
OUTPUT = re.compile(r"\| airollout-out (\w+)=(.*)")  # what the step printed, not its script
OUTPUTS = ("test_plan", "risk_tier", "matrix", "score", "decision")
PASSING = """<testsuite name="s" tests="2" failures="0">
<testcase classname="tests.test_a" name="test_one" time="0.1"/>
<testcase classname="tests.test_a" name="test_two" time="0.2"/>
</testsuite>"""
FAILING = PASSING.replace('failures="0"', 'failures="1"').replace(
    'name="test_two" time="0.2"/>', 'name="test_two" time="0.2"><failure message="no"/></testcase>'
)


def act(tmp_path: Path, inputs: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    """Run the local action with `inputs` in a one-job workflow; act's exit code, its log,
    and the action's outputs, printed by a last step whatever the action's outcome."""
    binary = bin_dir_from_env() / "act"
    if not binary.exists():
        pytest.fail(f"no {binary}: run `hack/build-tools.sh act` (make tools)", pytrace=False)
    report = {
        "name": "Report the outputs",
        "if": "always()",
        "env": {name.upper(): f"${{{{ steps.stage.outputs.{name} }}}}" for name in OUTPUTS},
        "run": "".join(f'echo "airollout-out {n}=${n.upper()}"\n' for n in OUTPUTS),
    }
    steps = [
        {"uses": "actions/checkout@v4"},
        {"id": "stage", "uses": "./", "with": {"install": "false", **inputs}},
        report,
    ]
    document = {"on": "push", "jobs": {"stage": {"runs-on": "ubuntu-latest", "steps": steps}}}
    (tmp_path / "stage.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    home = tmp_path / "act-home"
    home.mkdir(exist_ok=True)
    argv = [str(binary), "push", "-W", str(tmp_path / "stage.yml"), "-C", str(REPO)]
    argv += ["-P", "ubuntu-latest=-self-hosted", "--action-offline-mode", "--no-cache-server"]
    argv += ["--action-cache-path", str(tmp_path / "act-cache")]
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    env["PATH"] = path_with_cli(env["PATH"])
    done = subprocess.run(
        argv, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=ACT_TIMEOUT_SECONDS,
    )  # fmt: skip
    log = done.stdout + done.stderr
    (tmp_path / "act.log").write_text(log)
    outputs = {name: value.strip() for name, value in OUTPUT.findall(log)}
    assert set(outputs) == set(OUTPUTS), f"the report step did not run:\n{log[-6000:]}"
    return done.returncode, log, outputs


# A branch's first push has no `before`: GitHub gives 40 zeros, and the stage diffs from
# the head's parent, here main again.
@pytest.mark.parametrize("base", ["main", "0" * 40], ids=["base", "no-base"])
def test_the_select_stage_outputs_the_plan_its_risk_and_the_matrix(
    tmp_path: Path, indexed: tuple[Path, Path], base: str
) -> None:
    repo, index = indexed
    change(repo, "sub", "calc/ops.py", "return a - b", "return b - a")
    inputs = {"stage": "select", "select-repo": str(repo), "select-index": str(index)}
    code, log, outputs = act(tmp_path, {**inputs, "select-base": base, "select-head": "sub"})

    assert code == 0, log[-6000:]
    plan = json.loads(outputs["test_plan"])
    assert (plan["tests"], plan["shards"]) == ([SUB], [[SUB]])
    assert (outputs["risk_tier"], json.loads(outputs["matrix"])) == ("low", {"shard": [0]})
    assert (outputs["score"], outputs["decision"]) == ("", ""), "the other stages did not run"
    assert "Main Apply the manifest" not in log, "the rollout stage did not run"
    assert "### Test selection: 1 tests, risk low" in log
    assert ("no base revision given; the plan diffs from sub~1" in log) == (base != "main")


def cli_report(*flags: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "airollout.cli.main", "promotion", "score", *flags, "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_the_promotion_stage_outputs_the_cli_s_score_and_decision(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(PASSING)
    signals = tmp_path / "signals.json"
    signals.write_text(json.dumps({"change": {"files": 3, "lines": 40, "risk_tier": "low"}}))
    inputs = {"promotion-junit": f"{junit}\n", "promotion-signals": str(signals)}
    code, log, outputs = act(tmp_path, {"stage": "promotion", **inputs})

    expected = cli_report("--junit", str(junit), "--signals", str(signals))
    assert code == (1 if expected["decision"] == "block" else 0), log[-6000:]
    assert outputs["decision"] == expected["decision"] != "block"
    assert float(outputs["score"]) == pytest.approx(expected["score"], abs=1e-3)
    assert outputs["matrix"] == "", "the select stage did not run"


def test_a_failing_test_blocks_promotion_and_fails_the_step(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(FAILING)
    code, log, outputs = act(tmp_path, {"stage": "promotion", "promotion-junit": str(junit)})

    assert code != 0, "act reports the failed job"
    assert outputs["decision"] == "block"
    assert "::error title=AIRollout::promotion blocked (decision block)" in log
