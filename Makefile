# Hookline's two commands: `make run` (the service on demo data) and `make test`.
# Both set up everything they need on a fresh Debian/Ubuntu machine with Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: run test bench install install-test system-deps system-deps-run lint clean

run: $(VENV)/.installed system-deps-run
	$(BIN)/hookline db upgrade
	$(BIN)/hookline demo --if-empty
	exec $(BIN)/hookline serve

test: $(VENV)/.installed-test system-deps
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(PIP) install --quiet --no-deps "gbstats==0.8.0"
	$(BIN)/python -m pytest tests/bench -o python_files='bench_*.py' -o python_functions='bench_*' -s -q

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Hookline needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

# PyTorch (needed by argostranslate's dependencies) goes first, pinned: a CPU build of
# 2.13.0 is what the project is tested with, and an unpinned install pulls CUDA wheels.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

# Debian packages (installed when root, explained when not): Apertium for offline
# rule-based translation, fonts for burned-in subtitles, and Chromium for browser tests.
system-deps:
	@sh tests/support/system-deps.sh all

system-deps-run:
	@sh tests/support/system-deps.sh run

lint: $(VENV)/.installed-test
	$(BIN)/python -m ruff check hookline localization publisher analytics tests

clean:
	rm -rf $(VENV) .pytest_cache bench-results tests/artifacts
