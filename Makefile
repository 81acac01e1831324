# Everything a fresh machine needs: `make run` opens the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast system-deps bench clean dist dist-check
FLAVOUR ?= cpu

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@scripts/check-python.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	@touch $(STAMP)

system-deps:
	@scripts/system-deps.sh

run: setup
	$(VENV)/bin/cardgrader gui

test: setup system-deps
	$(PY) -m pytest

test-fast: setup system-deps
	$(PY) -m pytest -m "not slow"

# The double-click app: a PyInstaller one-folder build, archived (README: "Building the app").
dist: setup
	$(PY) -m pip install --quiet -c constraints.txt -e ".[build]"
	FLAVOUR=$(FLAVOUR) PY=$(PY) scripts/dist.sh

dist-check: system-deps
	FLAVOUR=$(FLAVOUR) scripts/dist-check.sh

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build dist .pytest_cache
