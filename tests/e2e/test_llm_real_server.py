"""The LLM judge against a real OpenAI-compatible server: llama-cpp-python and SmolLM2-135M.

This checks the plumbing, not the tiny model's judgement: the server turns json_schema down
(llama-cpp-python answers HTTP 500), the judge steps down to json_object and records it,
and whatever the model writes comes back either as an opinion or as an unusable answer
with its reason. hack/build-llm-server.sh builds the server once per machine (cached by
version, wired into hack/build-tools.sh); here it only reuses the cache, or builds it if
this machine has none.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from airollout.adapters.llm.openai_judge import LLMJudge, LLMSettings
from airollout.core.judge.types import Action
from localcluster.ports import free_loopback_ports
from tests.e2e.operator_harness import Process
from tests.support.verdict_builders import context, metric, rules_verdict

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "hack" / "build-llm-server.sh"
MODEL_ALIAS = "smollm2-135m"
STARTUP_S = 180.0  # loading a 98 MB model on a busy 2-core machine


def server_python() -> Path:
    cache = Path(os.environ.get("AIROLLOUT_CACHE_DIR", Path.home() / ".cache" / "airollout"))
    return cache / "bin" / "current" / "llm-server" / "venv" / "bin" / "python"


def built_model() -> Path:
    """The GGUF model path; building the server first on a machine without it (minutes)."""
    built = subprocess.run(
        [str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=3600, check=False
    )
    if built.returncode != 0:
        pytest.fail(f"hack/build-llm-server.sh failed:\n{built.stderr[-3000:]}", pytrace=False)
    return Path(built.stdout.strip().splitlines()[-1])


def wait_for_models(base_url: str, server: Process) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if server.proc is None or server.proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited:\n{server.log_tail()}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"no /v1/models after {STARTUP_S:g}s:\n{server.log_tail()}", pytrace=False)


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free loopback port; its OpenAI base URL."""
    model = built_model()
    (port,) = free_loopback_ports(1)
    argv = [str(server_python()), "-m", "llama_cpp.server", "--model", str(model)]
    argv += ["--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--n_ctx", "8192"]  # the judge's prompt carries the whole window's evidence
    server = Process("llm-server", argv, tmp_path_factory.mktemp("llm-server"), os.environ)
    base_url = f"http://127.0.0.1:{port}/v1"
    server.start()
    try:
        wait_for_models(base_url, server)
        yield base_url
    finally:
        server.stop()


def test_the_judge_falls_back_to_json_object_and_reads_or_records_the_answer(
    llm_server: str,
) -> None:
    settings = LLMSettings(
        model=MODEL_ALIAS,
        base_url=llm_server,
        timeout_s=120.0,
        deadline_s=240.0,
        max_attempts=2,
        max_tokens=256,  # a 135M model under a JSON grammar may not stop by itself
    )
    judge = LLMJudge(settings)
    try:
        opinions = [
            judge.opinion(context(), rules_verdict(Action.PROCEED, metric())) for _ in range(2)
        ]
    finally:
        judge.close()
    for opinion in opinions:
        # json_schema was refused by the server, json_object accepted and recorded.
        assert opinion.response_format == "json_object", opinion.error
        if opinion.action is None:
            # The model answered, but not with a usable verdict: the reason says which part.
            assert opinion.error is not None
            assert opinion.error.startswith(("malformed answer", "answer fails the schema")), (
                opinion.error
            )
        else:
            assert opinion.error is None
            assert opinion.reasoning
        assert opinion.completion_tokens, "the answer came from the server's completion"
    # Remembered for the endpoint: the next window asks for json_object straight away.
    assert judge.answer_format() == "json_object"
