# Portside: `make run` starts it with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
DATA ?= data

.PHONY: run test lint unit bench model clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/portside --data-dir $(DATA) migrate
	$(BIN)/portside --data-dir $(DATA) demo --origin http://127.0.0.1:$(PORT) --origin http://localhost:$(PORT)
	$(BIN)/portside --data-dir $(DATA) serve --host 127.0.0.1 --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/chat_latency.py --json

# The intent model shipped in the package, trained again from agent/data/intents/.
model: $(STAMP)
	$(BIN)/portside build-intent-model
	$(BIN)/portside build-intent-vectors

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
