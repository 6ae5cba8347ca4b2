# topictrack: `make demo` and `make test` each build .venv on first use.
#
# torch is installed first and pinned: an unpinned torch pulls several GB of
# CUDA wheels; 2.13.0 is the CPU build. The stamp file makes re-runs instant
# until pyproject.toml changes.

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TORCH  := torch==2.13.0

.PHONY: demo test lint install clean

demo: $(STAMP)
	$(BIN)/topictrack demo

test: lint
	$(BIN)/python -m pytest

# ruff, and the import contracts of pyproject.toml ([tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache *.egg-info
