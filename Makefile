# Two commands for a user: `make demo` and `make test`. Both bootstrap the locked
# environment into .venv through `make setup`, which does nothing when it is current.
PY ?= python3
UV_VERSION := 0.13.8
TOOLS := .cache/tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: setup browser demo test lint ui clean bench

setup: .venv/.synced

$(UV):
	$(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --locked --python $(PY)
	@touch $@

# The browser tests drive Debian's Chromium (Playwright's own download is not reachable here);
# a CJK font so that the screenshots show Chinese, not boxes. Nothing to do when present.
BROWSER_PACKAGES := chromium fonts-wqy-zenhei
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi wqy; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(BROWSER_PACKAGES); \
	fi

demo: setup
	.venv/bin/campaign demo

test: setup browser
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/python -m pytest -n 2 --dist loadgroup --durations=25

# The Prefect UI on the runs the demo recorded (same Prefect home as the CLI).
ui: setup
	PREFECT_HOME=$${CAMPAIGN_HOME:-.campaign}/prefect PREFECT_SERVER_LOGGING_LEVEL=WARNING \
		.venv/bin/prefect server start --host 127.0.0.1 --port 4200

bench: setup
	.venv/bin/python bench/rollout.py --units 100000

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

clean:
	rm -rf .venv .cache .campaign
