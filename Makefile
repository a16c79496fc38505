# Kinline: `make run` serves on http://127.0.0.1:8080, `make test` runs every test.
# Both create the virtual environment on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed-stamp
STAMP := $(VENV)/.test-installed-stamp
SYSTEM_PACKAGES := caddy chromium fonts-noto-core postgresql redis-server

.PHONY: run demo test unit lint bench system-deps clean

# What running needs, and nothing more: no test tools, no PostgreSQL or Redis clients.
$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

# The rest, for lint and tests: the dev tools and the scale-out clients (asyncpg, redis).
$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,scale]'
	touch $(STAMP)

# Serves on http://127.0.0.1:8080 by default; another port: `make run PORT=8081` (or KINLINE_PORT=8081).
run: $(RUN_STAMP)
	$(BIN)/kinline serve $(if $(PORT),--port $(PORT))

# A demonstration on its own database (var/demo.db) with demo staff and a counsellor's schedule.
demo: $(RUN_STAMP)
	$(BIN)/kinline demo $(if $(PORT),--port $(PORT))

# Debian packages the browser tests need; installed when missing and we are root.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (run as root, or install them)"; exit 1; fi; \
	fi

# ESLint for web/, pinned by package.json and package-lock.json; `npm ci` installs exactly the lock file.
NODE_STAMP := node_modules/.installed-stamp

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	node_modules/.bin/eslint web

test: $(STAMP) system-deps lint
	$(BIN)/pytest -q

# The fast tests: the domain, and the services on in-memory fakes (tests/fakes); no database, no server.
unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	@echo "see bench/README.md"

clean:
	rm -rf $(VENV) node_modules var/*.db var/*.db-wal var/*.db-shm var/demo-data.key test-artifacts
