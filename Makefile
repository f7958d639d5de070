# One source of truth for developers, pre-commit and CI. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK ?=
STACKS := $(sort $(patsubst stacks/Pulumi.%.yaml,%,$(wildcard stacks/Pulumi.*.yaml)))
PULUMI ?= pulumi

.PHONY: help install test lint fmt typecheck check plan simulate preview up require-pulumi require-stack clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet ".[tools]" --group dev
	@touch $@

install: $(STAMP) ## Create .venv and install the program, the offline tools and the dev tools

test: $(STAMP) ## Run the whole test suite (offline: no Pulumi CLI, no AWS account)
	$(PY) -m pytest

lint: $(STAMP) ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP) ## Format and fix what ruff can
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP) ## mypy
	$(VENV)/bin/mypy

check: lint typecheck test ## Everything CI runs

plan: $(STAMP) ## Plan and policy-check every stack offline (or STACK=<stack>): no CLI, no credentials
	@$(if $(STACK),test -f stacks/Pulumi.$(STACK).yaml || { echo "error: stacks/Pulumi.$(STACK).yaml does not exist (stacks: $(STACKS))" >&2; exit 2; })
	$(PY) -m tools.offline_preview $(foreach s,$(or $(STACK),$(STACKS)),--stack $(s)) \
		--policy-pack policies --policy-pack-config 'policies/config/{stack}.json' --preview

CASE ?=
simulate: require-stack $(STAMP) ## Run a workflow test case on a stack's state machines offline: STACK=<stack> CASE=<case>
	@test -n "$(CASE)" || { echo "error: name a test case: make simulate STACK=$(STACK) CASE=<case> (cases: tests/simulation/MockConfigFile.json)" >&2; exit 2; }
	$(PY) -m tools.simulate --stack $(STACK) --case $(CASE)

require-pulumi:
	@command -v $(PULUMI) >/dev/null || { echo "error: the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/); 'make test' needs no CLI" >&2; exit 2; }

require-stack:
	@test -n "$(STACK)" || { echo "error: name a stack: make $(MAKECMDGOALS) STACK=<$(subst $() ,|,$(STACKS))>" >&2; exit 2; }
	@test -f stacks/Pulumi.$(STACK).yaml || { echo "error: stacks/Pulumi.$(STACK).yaml does not exist (stacks: $(STACKS))" >&2; exit 2; }

preview: require-pulumi require-stack $(STAMP) ## pulumi preview STACK=<stack> with the Pulumi CLI
	$(PULUMI) preview --stack $(STACK) --diff

up: require-pulumi require-stack $(STAMP) ## pulumi up STACK=<stack> with the Pulumi CLI
	$(PULUMI) up --stack $(STACK)

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
