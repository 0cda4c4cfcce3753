# Two commands do all set-up on a fresh machine (Python 3.11+):
#   make run   install into .venv and start the app
#   make test  install with the dev tools into .venv and run the whole test suite
# and one builds the desktop app:
#   make bundle  PyInstaller one-folder app in dist/bundle/crmcompanion, then its checks
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-dates lint bench bundle clean

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

PYTEST := QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# The clock-sensitive tests (marker `clock_sensitive`) with the real clock moved to each date
# (wall time in each zone; "now" leaves it) and the local time zone set to each zone: see
# tests/moved_clock.py. `make test-dates` runs the whole matrix; `make test` a small part.
CLOCK_DATES := now 2026-12-31T23:59:30 2028-02-28T12:00 2028-02-29T12:00 \
	2027-03-28T02:30 2027-10-31T02:30 2030-06-15T12:00
CLOCK_ZONES := UTC Europe/Berlin Pacific/Auckland
# The part `make test` runs at two moved clocks: the scheduler, Today's rules, `due`, the
# tray's reminders and the real app delivering on its (moved) system clock.
CLOCK_SMOKE := tests/reminders/test_runner_and_snooze.py tests/services/test_touchpoints.py \
	tests/cli/test_due_and_log.py tests/ui/test_tray_reminders.py \
	tests/ui/test_app_reminders.py::test_the_app_delivers_lists_badges_activates_and_quits

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(PYTEST)
	$(PYTEST) -q -m clock_sensitive $(CLOCK_SMOKE) \
		--moved-clock=2026-12-31T23:59:30 --moved-tz=Pacific/Auckland
	$(PYTEST) -q -m clock_sensitive $(CLOCK_SMOKE) \
		--moved-clock=2028-02-29T12:00 --moved-tz=America/Los_Angeles

test-dates: $(VENV)/.installed-dev
	@set -e; for when in $(CLOCK_DATES); do for zone in $(CLOCK_ZONES); do \
		echo "== clock_sensitive tests, clock $$when, TZ=$$zone"; \
		$(PYTEST) -q -m clock_sensitive --moved-clock=$$when --moved-tz=$$zone; \
	done; done

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
