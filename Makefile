# Two commands on a fresh machine: `make run` (the app on the demo workspace) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKSPACE ?= workspace
PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: install run demo test browser bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned: the pin is a CPU build here and the normal build elsewhere; an unpinned
# torch pulled in by a dependency would drag several GB of CUDA packages.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install torch==2.13.0
	$(BIN)/python -m pip install -e ".[dev]"
	touch $@

install: $(STAMP)

$(WORKSPACE)/.demo-built: | $(STAMP)
	$(BIN)/sde-workbench --workspace $(WORKSPACE) demo
	touch $@

demo: $(WORKSPACE)/.demo-built

run: install demo
	$(BIN)/sde-workbench --workspace $(WORKSPACE) app --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Chromium for the browser tests (tests/browser), from the OS packages: Playwright drives it, it downloads none.
# Without it those tests skip and say why; CI installs it first.
browser:
	command -v chromium >/dev/null || { apt-get update && apt-get install -y --no-install-recommends chromium; }

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/filter.py
	$(BIN)/python bench/embed.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/judging.py
	$(BIN)/python bench/umap.py
	$(BIN)/python bench/app_walk.py

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
