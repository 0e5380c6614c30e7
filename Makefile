# The two commands of the README. Each sets itself up on a fresh machine with only Python and make.
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.installed

.PHONY: demo test lint install bench bench-clocks bench-digest

$(READY): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(READY)

install: $(READY)

demo: $(READY)
	$(BIN)/guanjia demo

lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot handlers storage tests benchmarks

test: lint
	$(BIN)/pytest

# Benchmarks print figures; they are not part of `make test`.
bench: $(READY)
	$(BIN)/guanjia bench

bench-clocks: $(READY)
	$(BIN)/python -m benchmarks.clocks

bench-digest: $(READY)
	$(BIN)/python -m benchmarks.digest
