# Two commands do all set-up on a fresh machine (Python 3.11+):
#   make run   install into .venv and start the app
#   make test  install with the dev tools into .venv and run the whole test suite
# and one builds the desktop app:
#   make bundle  PyInstaller one-folder app in dist/bundle/crmcompanion, then its checks
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench bundle clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-app

$(VENV)/.installed-bundle: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,bundle]"
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed-app

run: $(VENV)/.installed-app
	$(BIN)/crmcompanion

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

bench: $(VENV)/.installed-app
	$(BIN)/python benchmarks/run.py

# ~3 min on a 2-core machine; the checks start the built app offscreen (tests/packaging/test_bundle.py).
bundle: $(VENV)/.installed-bundle
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist/bundle \
		--workpath build/bundle packaging/crmcompanion.spec
	CRMCOMPANION_BUNDLE=$(CURDIR)/dist/bundle/crmcompanion QT_QPA_PLATFORM=offscreen \
		$(BIN)/python -m pytest -m bundle tests/packaging/test_bundle.py

clean:
	rm -rf $(VENV) build dist *.egg-info
