# Every command a user or CI needs. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# .python-version makes pyenv pick 3.13; elsewhere python3.13 must be on PATH.
PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# sam build needs a python3.13 on PATH: the venv's.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export SAM_CLI_TELEMETRY := 0
export MPLBACKEND := Agg
# Python's default, whatever the shell sets: each module a recipe imports is compiled once
# and its bytecode kept (this project's code, which no install compiles, and checkov's
# venv), instead of compiled again by every process that imports it.
export PYTHONDONTWRITEBYTECODE :=

VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

# The whole resolved dependency set, for .venv and .venv-checkov: a new botocore, numpy or
# Flask under moto is a deliberate `make lock`, not a surprise. pyproject.toml and
# requirements/checkov.txt keep the direct pins; these files pin everything under them.
LOCK := requirements/lock.txt
CHECKOV_LOCK := requirements/checkov-lock.txt
# One resolution for every platform (markers where they differ), for Python 3.13 only.
# uv keeps the pins already in the lock that still fit; `make lock LOCK_FLAGS=--upgrade`
# moves every one of them to its newest release.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.13 \
  --custom-compile-command "make lock" $(LOCK_FLAGS)

.PHONY: help demo test checks test-fast lint typecheck checkov preflight build-check asl unit integration build deploy clean lock browser-deps

help:
	@echo "make demo    the whole workflow offline: no AWS account, no Docker (~30-45 s once installed)"
	@echo "make test    every check: ruff, mypy, cfn-lint, sam validate --lint, checkov, sam build, ASL validator, pytest"
	@echo "make test-fast  pytest without the offline-stack (and browser) tests: the quick loop (~1.5-3 min, as fast as the machine is)"
	@echo "make lint    ruff, mypy, cfn-lint, sam validate --lint and checkov only"
	@echo "make typecheck  mypy: strict on functions/, and mlwf/ and training_job/"
	@echo "make browser-deps  Debian's chromium + chromium-driver for tests/browser (apt-get)"
	@echo "make preflight  the deploy preflight: what AWS checks at deploy time (tests/preflight)"
	@echo "make integration  tests/integration against the stack AWS_SAM_STACK_NAME names"
	@echo "make build   sam build (into .aws-sam/)"
	@echo "make lock    re-resolve requirements/lock.txt and requirements/checkov-lock.txt after a pin changes"
	@echo "make deploy  sam build && sam deploy --guided (needs AWS credentials)"

# pip installs only uv (at the locked version); uv installs the rest, the same pins as pip
# would (the two venvs' `pip freeze` compared equal) in ~15 s instead of ~3 min with a warm
# cache. --compile-bytecode does what pip does at install: otherwise the test processes
# would each compile the same modules on their first import. The venv keeps its own pip:
# `sam build` runs it.
$(VENV_STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), f"Python 3.13 is needed, found {sys.version.split()[0]}: install it or set PYTHON=/path/to/python3.13"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(LOCK) uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c $(LOCK) -e ".[dev]"
	@touch $@

# checkov's venv is only run by make: its first run compiles what it imports (see
# PYTHONDONTWRITEBYTECODE above), ~6 s of CPU less than compiling the whole venv up front.
$(CHECKOV_STAMP): requirements/checkov.txt $(CHECKOV_LOCK) $(VENV_STAMP)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(BIN)/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python -c $(CHECKOV_LOCK) -r requirements/checkov.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: $(VENV_STAMP)
	$(BIN)/mlwf demo

# The checks (lint, ASL, sam build) run beside pytest: pytest's offline-stack tests spend
# much of their time waiting on processes and clocks, which the checks fill. Each side's
# output is shown whole when it ends (--output-sync), so the log reads as if run in turn.
test: $(VENV_STAMP) browser-deps
	$(MAKE) --no-print-directory -j 2 --output-sync=target checks unit

# The checks one after the other, one submake each: they take one core, pytest the rest.
# (`$(MAKE) -j1 lint asl build-check` did the same and printed "-j1 forced in submake".)
# checkov's venv and the ASL validator (npm) install here, beside pytest, not before it.
checks: $(VENV_STAMP)
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory asl
	$(MAKE) --no-print-directory build-check

# tests/browser drive Debian's Chromium through its chromedriver: installed here when absent
# (CI runs as root on a fresh machine); skipped when both are present.
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  echo "chromium: $$(chromium --version 2>/dev/null | head -1)"; \
	else \
	  sudo=$$( [ "$$(id -u)" = 0 ] || command -v sudo ); \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
	    chromium chromium-driver >/dev/null && \
	  echo "chromium: installed $$(chromium --version 2>/dev/null | head -1)"; \
	fi

lint: $(VENV_STAMP)
	ruff check .
	ruff format --check .
	$(MAKE) --no-print-directory typecheck
	cfn-lint template.yaml
	sam validate --lint
	$(MAKE) --no-print-directory checkov

# mypy: strict on the functions (each is self-contained, typed at its boundary), as
# configured in pyproject.toml on the workstation code.
typecheck: $(VENV_STAMP)
	mypy --strict functions
	mypy mlwf training_job

# checkov on the template CloudFormation receives (SAM-translated); every finding this app
# does not fix is skipped in template.yaml with its reason beside it. BC_SKIP_MAPPING and
# --skip-download keep it off the network.
checkov: $(VENV_STAMP) $(CHECKOV_STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(BIN)/python -m tests.helpers.sam_translate "$$tmp/template.json" && \
	  BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov -f "$$tmp/template.json" \
	    --framework cloudformation --compact --quiet --skip-download

preflight: $(VENV_STAMP)
	pytest tests/preflight

# The packages must build; the artefacts go to a temporary folder, not .aws-sam/.
build-check: $(VENV_STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  sam build --build-dir "$$tmp/build" --cache-dir "$$tmp/cache" > "$$tmp/log" 2>&1 || { cat "$$tmp/log"; exit 1; } && \
	  echo "sam build: OK ($$(du -sh "$$tmp/build" | cut -f1))"

# Validate the definitions as deployed: with DefinitionSubstitutions applied.
asl: $(VENV_STAMP) $(NODE_STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(BIN)/python -c 'import sys; from mlwf.offline.template import write_definitions; write_definitions(sys.argv[1])' "$$tmp" && \
	  for f in "$$tmp"/*.json; do asl-validator --json-path "$$f"; done

# pytest on three processes (pytest-xdist) on two cores: the offline-stack tests wait on
# their stacks' processes much of the time. The tests share no port (each binds a free
# one), no folder (tmp_path) and no moto (each process has its own). loadscope sends a
# module to one worker whole, so that what it shares (a seeded stack, a demo run, a trained
# model) is made once; a test class goes alone, so tests/offline/test_offline_up.py's two
# stacks (one class each) serve side by side. (loadgroup would group finer, but
# pytest-xdist 3.8 cannot rename pytest 9's node ids.) A function's init slowed past
# Lambda's 10 s by a busy machine is retried, as Lambda retries it
# (mlwf/offline/functions.py). PYTEST_WORKERS=0 runs in this process.
PYTEST_WORKERS ?= 3
PYTEST := pytest -n $(PYTEST_WORKERS) --dist loadscope

unit: $(VENV_STAMP)
	$(PYTEST)

# Everything but the tests that start whole offline stacks (tests/offline) or a browser.
# On two workers: these tests keep their cores busy, and a third would only queue.
test-fast: $(VENV_STAMP)
	pytest -n 2 --dist loadscope -m "not offline and not browser"

# Against a deployed stack: needs AWS_SAM_STACK_NAME (and AWS_ENDPOINT_URL for an emulator).
integration: $(VENV_STAMP)
	@if [ -z "$${AWS_SAM_STACK_NAME:-}" ]; then \
	  echo "make integration: export AWS_SAM_STACK_NAME=<your stack> (samconfig.toml names image-classification-workflow), and AWS_REGION or AWS_PROFILE for its account" >&2; \
	  exit 2; \
	fi
	pytest tests/integration -m integration

build: $(VENV_STAMP)
	sam build

# Only uv (at its locked version) is installed first: the rest of .venv may not install
# against the old lock once a pin in pyproject.toml has changed.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(LOCK) uv
	$(call compile_lock,pyproject.toml --extra dev,$(LOCK))
	$(call compile_lock,requirements/checkov.txt,$(CHECKOV_LOCK))

# A lock compiled beside the old one (which uv reads as its preferences) and moved over it
# only when it changed: a rewritten but equal lock would look newer than .venv and make the
# next `make` reinstall everything.
define compile_lock
	cp $(2) $(2).new && $(UV_COMPILE) $(1) -o $(2).new && \
	  if cmp -s $(2).new $(2); then rm $(2).new; else mv $(2).new $(2); fi
endef

deploy: build
	sam deploy --guided

clean:
	rm -rf .aws-sam demo-output monitor-output threshold-output batch-output .pytest_cache .ruff_cache .mypy_cache
