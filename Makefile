# GovDesk: `make demo` runs the demo city, `make test` runs the whole suite.
# Docs: README.md and docs/operations.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-repeat lint format typecheck bench lock pwa pwa-if-missing screenshots clean

$(STAMP): pyproject.toml requirements.lock
	@# A venv left half-made by an interrupted run (no working pip) is made again.
	@$(PY) -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

# Builds the PWA when there is one (pwa/package.json); npm ci uses the committed lock.
pwa:
	@if [ -f pwa/package.json ]; then cd pwa && npm ci --no-audit --no-fund && npm run build; fi

# The browser tests (tests/pwa) need a build; `make test` makes one only when there is none.
pwa-if-missing:
	@if [ -f pwa/package.json ] && [ ! -f pwa/dist/index.html ]; then $(MAKE) pwa; fi

demo: $(STAMP) pwa
	$(PY) scripts/demo.py

test: $(STAMP) pwa-if-missing
	$(PY) -m pytest $(PYTEST_ARGS)

# The flaky-test guard (docs/testing.md#flaky-test-guard): TEST (node ids, files or
# folders, as pytest takes them) run N times in a row, stopping at the first failure.
# make test-repeat TEST=tests/deploy/test_demo_runner.py::test_children_do_not_outlive_a_killed_launcher N=20
N ?= 10
test-repeat: $(STAMP) pwa-if-missing
	@test -n "$(TEST)" || { echo "usage: make test-repeat TEST=<test id or path> [N=$(N)]"; exit 2; }
	$(PY) -m pytest $(TEST) --repeat=$(N) -x $(PYTEST_ARGS)

# docs/images/pwa-*.png: the main screens at a phone viewport (docs/pwa.md#screenshots).
screenshots: $(STAMP) pwa
	$(PY) -m tests.pwa.screenshots

bench: $(STAMP) pwa
	$(PY) -m pytest tests/bench -p no:randomly --override-ini="testpaths=tests/bench" -q -s

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy api notifications vpn_gateway cityfakes
	$(VENV)/bin/lint-imports  # the import layers: pyproject.toml [tool.importlinter]

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lock: $(STAMP)
	@{ head -2 requirements.lock; $(PY) -m pip freeze --exclude-editable | grep -iv '^govdesk'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
