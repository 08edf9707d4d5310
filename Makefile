# AIRollout: every target installs what it needs, so each works on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
# The repository's scenarios, and the shared folder's too where it is checked out beside it.
SCENARIOS ?= scenarios $(wildcard ../shared/scenarios)
COMPILED := $(shell sed -e 's/\#.*//' hack/compiled-modules)

.PHONY: help install compile tools lint format crds test test-unit test-cluster test-e2e \
        bench bench-decisions bench-promotion bench-selection bench-harness bench-operator bench-argo bench-idle bench-soak demo \
        cluster-up cluster-down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null || python3 -m pip install --quiet uv
	uv sync --frozen
	@touch $@

# The decision core runs compiled (hack/compile.sh); rebuilt whenever one of its sources changes.
$(VENV)/.compiled: $(VENV)/.installed $(COMPILED) hack/compiled-modules hack/compile.sh
	hack/compile.sh
	@touch $@

install: $(VENV)/.installed $(VENV)/.compiled ## .venv with the project editable, its core compiled

compile: $(VENV)/.installed ## rebuild the compiled decision core (make install rebuilds it on edits)
	hack/compile.sh
	@touch $(VENV)/.compiled

tools: ## build or reuse the control plane, kwok, helm, act, actionlint, Argo Rollouts, the LLM test server, Prometheus (cached by version)
	hack/build-tools.sh

lint: install ## ruff, mypy (strict on pure packages) and the import-layering contract
	$(VENV)/bin/ruff check operator tools tests hack
	$(VENV)/bin/ruff format --check operator tools tests hack
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix operator tools tests hack
	$(VENV)/bin/ruff format operator tools tests hack

crds: install ## regenerate crds/ from the pydantic models
	$(PY) -m airollout.core.resource.crd --write crds

test-unit: install ## unit tests only: no cluster, seconds
	$(PY) -m pytest -m unit tests/unit

test-cluster: install tools ## tests against the real control plane
	$(PY) -m pytest -m cluster tests/cluster

test-e2e: install tools ## cluster + Prometheus + simulated workload
	$(PY) -m pytest -m e2e tests/e2e

test: lint tools ## lint, then every test
	$(PY) -m pytest tests

BENCH_ROLLOUTS ?= 50,200

bench: bench-decisions bench-promotion bench-selection bench-harness bench-operator bench-idle ## every benchmark but the soak; prints its figures

bench-decisions: install ## decision quality of each judge on the scenario folder
	$(VENV)/bin/airollout bench decisions $(SCENARIOS)

bench-promotion: install ## the promotion score beside the seed's rules on the sample history
	$(VENV)/bin/airollout bench promotion

# the index at the layout commit (0fd1222), the selection and analysis tests' later commits
bench-selection: install ## test selection on this repository's history with injected faults
	$(VENV)/bin/airollout bench selection --index-at 0fd1222

bench-operator: install tools ## N AIRollouts at once, one operator on one core: delay, CPU, RSS
	$(VENV)/bin/airollout bench operator --rollouts $(BENCH_ROLLOUTS)

ARGO_ROLLOUTS ?= 50

bench-argo: install tools ## the operator-scale benchmark beside the real Argo Rollouts controller
	$(VENV)/bin/airollout bench operator --rollouts $(ARGO_ROLLOUTS) --peer argo

bench-idle: install tools ## 1,000 finished AIRollouts: the operator's CPU over 60 s
	$(VENV)/bin/airollout bench idle --rollouts 1000 --seconds 60

SOAK_MINUTES ?= 30
bench-soak: install tools ## rollouts created and finished for SOAK_MINUTES: operator RSS growth
	$(VENV)/bin/airollout bench soak --minutes $(SOAK_MINUTES)

bench-harness: install ## cold build time (when it builds) and cluster start time
	hack/bench-harness.sh

cluster-up: tools ## start the local cluster; prints export lines
	@hack/cluster.sh up

cluster-down: ## stop the local cluster
	@hack/cluster.sh down

demo: install tools ## a healthy and a failing rollout on the local cluster, live
	hack/demo.sh

clean: ## remove the virtualenv, caches and compiled modules (not the built binaries)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis operator/build
	find operator -name '*.so' -delete
	rm -f operator/.mypyc-sources
