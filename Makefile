# drwave — make run starts the whole product on embedded defaults; make test runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv browser run test unit integration e2e lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@$(MAKE) --no-print-directory browser
	@touch $(STAMP)

# The browser tests drive Debian's Chromium (a browser download at install time does not work here).
# apt-get waits up to 10 min for the dpkg lock when another install is running on the machine.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get -o DPkg::Lock::Timeout=600 update -q && apt-get -o DPkg::Lock::Timeout=600 install -y -q chromium chromium-driver; \
		else echo "browser tests need Debian's chromium + chromium-driver (apt-get install as root)"; fi; \
	fi

run: venv
	$(BIN)/drwave run

test: venv browser lint
	$(BIN)/pytest tests

unit: venv
	$(BIN)/pytest tests/unit

integration: venv
	$(BIN)/pytest tests/integration

e2e: venv browser
	$(BIN)/pytest tests/e2e

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .drwave .pytest_cache
