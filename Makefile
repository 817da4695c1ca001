# The two commands a new machine needs: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: run test bench faults replay deps lint typecheck unit integration down clean help

help:
	@echo "make run    build/reuse the Asterisk sandbox, start it and the controller (SQLite, web API)"
	@echo "make test   ruff, mypy and every test, the ones against the real Asterisk and SIPp included"
	@echo "make bench  D / S0 / S on one Asterisk, stepped until calls fail: BENCHMARKS.md (~25 min)"
	@echo "make faults each fault against the sandbox with SIPp callers: RELIABILITY.md (~15 min)"
	@echo "make replay Kendari's first 20 days (5,982 calls) in about 12 minutes, checked call by call"
	@echo "make down   stop the sandbox"

deps: $(BIN)/.installed
	@scripts/install-system-deps

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	@touch $@

run: deps
	$(BIN)/pbx-bridge sandbox up
	@echo
	@echo "pbx_bridge is starting (Ctrl-C stops the controller; 'make down' stops Asterisk)."
	@echo "  web API:     http://127.0.0.1:8080   (/health, /metrics; /api/calls needs the token)"
	@echo "  API token:   PBX_BRIDGE_API_TOKEN in ~/.cache/pbx-bridge/sandbox.env"
	@echo "  test call:   $(BIN)/pbx-bridge call --scenario talk --seconds 15"
	@echo "               $(BIN)/pbx-bridge call --scenario hangup"
	@echo "  records:     $(BIN)/pbx-bridge calls --json"
	@echo
	exec $(BIN)/pbx-bridge serve

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: deps
	$(BIN)/mypy

unit: deps
	$(BIN)/pytest tests/unit -q

integration: deps
	$(BIN)/pytest tests/integration -q

test: lint typecheck
	$(BIN)/pytest -q -ra

bench: deps
	BENCH_COMMAND="make bench" $(BIN)/pbx-bridge bench --out BENCHMARKS.md

faults: deps
	FAULTS_COMMAND="make faults" $(BIN)/pbx-bridge faults --out RELIABILITY.md

replay: deps
	$(BIN)/pbx-bridge replay --mix kendari

down: deps
	$(BIN)/pbx-bridge sandbox down

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .pbx-bridge
