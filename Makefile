# Foxtrot: the verbs a newcomer needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
UV_VERSION := 0.13.9
UV ?= $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
# Trust the operating system's certificate store (corporate proxies, private mirrors).
export UV_SYSTEM_CERTS := true

SHARED_BARS := $(CURDIR)/../shared/data/bars/intraday/ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv
REPLAY ?= $(if $(wildcard $(SHARED_BARS)),$(SHARED_BARS),synthetic)
SPEED ?= 600
PYTEST_ARGS ?=

.PHONY: help run test test-unit bench backtest lint format typecheck schemas nats-config \
        docker-build compose-up compose-down clean

help: ## List the verbs
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	@echo "installing uv $(UV_VERSION) into .tools/ (needs only Python 3.11)"
	@$(PYTHON) -m venv $(CURDIR)/.tools
	@$(CURDIR)/.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/python: uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml) | $(UV)
	@$(UV) sync --locked --all-packages --python $(PYTHON) --quiet
	@touch $@

run: $(BIN)/python ## Run the platform: NATS, PostgreSQL, five services, replay (REPLAY=file|synthetic SPEED=600)
	@$(BIN)/foxtrot-local run --replay "$(REPLAY)" --speed $(SPEED)

test: $(BIN)/python ## Run every test (unit, contract, integration, end-to-end)
	@$(BIN)/pytest $(PYTEST_ARGS)

test-unit: $(BIN)/python ## Run only the tests that need no NATS or PostgreSQL
	@$(BIN)/pytest -m "not integration" $(PYTEST_ARGS)

bench: $(BIN)/python ## Benchmarks (market data ticks/s, order round trip, risk rules per order, the risk hop, backtest bars/s against backtrader), each beside a baseline measured in the same run
	@$(BIN)/python tests/bench/bench_market_data.py
	@$(BIN)/python tests/bench/bench_orders.py
	@$(BIN)/python tests/bench/bench_risk.py
	@$(BIN)/python tests/bench/bench_risk_hop.py
	@$(BIN)/python tests/bench/bench_backtest.py

backtest: $(BIN)/python ## Backtest the SMA crossover on the shared FTX bars; writes backtests/demo/report.html
	@$(BIN)/foxtrot backtest sma_cross --data "$(SHARED_BARS)" --instrument-id BTC-PERP.FTX \
	  --instruments deploy/instruments.json --output backtests/demo

lint: $(BIN)/python ## ruff, mypy, import contracts and the v1 schema check
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy libs/*/src services/*/src libs/*/tests services/*/tests tests
	@$(BIN)/lint-imports
	@$(BIN)/python -m foxtrot.common.contract check

format: $(BIN)/python ## Apply ruff's formatting and safe fixes
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

schemas: $(BIN)/python ## Refresh the v1 JSON Schema snapshot (only for compatible changes)
	@$(BIN)/python -m foxtrot.common.contract write >/dev/null
	@$(BIN)/python -m foxtrot.common.contract check

nats-config: $(BIN)/python ## Re-render the ingest mappings and users of deploy/nats/nats.conf
	@$(BIN)/python -m foxtrot.common.local.nats_conf deploy/nats/nats.conf deploy/k8s/base/nats/nats.conf

docker-build: ## Build the service image foxtrot:dev
	docker build -t foxtrot:dev .

compose-up: ## Run everything in Docker (docker compose up)
	docker-compose up -d --build

compose-down: ## Stop the Docker platform and drop its volumes
	docker-compose down -v

clean: ## Remove the virtualenv, run state and caches
	rm -rf .venv .tools .run .pytest_cache .mypy_cache .ruff_cache
