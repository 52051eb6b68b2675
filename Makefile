# The two commands of the README: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-clock test-redis-topologies lint bench redis-server faketime clean package lock

# The venv installs from the lock files, every package (the transitive ones too) pinned with its hashes:
# requirements*.txt say what the bot asks for, `make lock` resolves them into requirements*.lock.
# pip first: requirements-pip.txt says why.
PIP_INSTALL := $(PY) -m pip install -q --disable-pip-version-check --require-hashes

$(VENV)/.runtime: requirements-pip.lock requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements-pip.lock
	$(PIP_INSTALL) -r requirements.lock
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.lock
	$(PIP_INSTALL) -r requirements-dev.lock
	touch $@

# Re-resolves requirements*.txt into the lock files, for Python 3.11 on Linux x86_64 (this project's machines),
# keeping every pin that still fits; `make lock LOCK_ARGS=--upgrade` moves them all to the newest that fit,
# `LOCK_ARGS="-P aiohttp"` just one. The dev lock is resolved first and the runtime one within it, so the two
# agree. pip-tools runs from a throwaway venv: it is no dependency of the bot. Needs PyPI.
PIP_TOOLS := pip-tools==7.6.2
LOCK_ARGS :=
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" "$$tools/bin/pip-compile" -q --no-config --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host --no-emit-options \
	$(LOCK_ARGS)

lock:
	@$(PYTHON) -c 'import platform, sys; sys.exit(sys.version_info[:2] != (3, 11) or sys.platform != "linux" \
	  or platform.machine() != "x86_64")' || { echo "make lock: the lock files are for Python 3.11 on Linux \
	x86_64; $(PYTHON) is not (make lock PYTHON=python3.11)" >&2; exit 1; }
	@tools=$$(mktemp -d) && trap 'rm -rf "$$tools"' EXIT && \
	  echo "installing $(PIP_TOOLS) into a throwaway venv" && \
	  $(PYTHON) -m venv "$$tools" && \
	  "$$tools/bin/pip" install -q --disable-pip-version-check $(PIP_TOOLS) && \
	  echo "resolving requirements-pip.txt, requirements-dev.txt, requirements.txt" && \
	  $(PIP_COMPILE) -o requirements-pip.lock requirements-pip.txt && \
	  $(PIP_COMPILE) -o requirements-dev.lock requirements-dev.txt && \
	  $(PIP_COMPILE) -c requirements-dev.lock -o requirements.lock requirements.txt

# Debian's redis-server, for the tests (the bot itself only needs REDIS_URL).
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing redis-server (Debian package)"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

demo: $(VENV)/.runtime
	$(PY) app.py --demo

# Microsoft's adaptivecards library (Node), which the tests use to check every card we build.
tests/cards/node_modules/.installed: tests/cards/package.json tests/cards/package-lock.json
	npm ci --prefix tests/cards --no-audit --no-fund --loglevel=error
	touch $@

# Node packages for the Teams manifest schema check, pinned by the lockfile.
manifest/node_modules/.installed: manifest/package.json manifest/package-lock.json
	npm ci --prefix manifest --no-audit --no-fund --loglevel=error
	touch $@

# appPackage.zip for Teams: needs MICROSOFT_APP_ID, BOT_ENDPOINT, APP_DEVELOPER_NAME, APP_WEBSITE_URL,
# APP_PRIVACY_URL and APP_TERMS_URL (TEAMS_APP_ID, APP_VERSION optional).
package: manifest/node_modules/.installed
	$(PYTHON) manifest/build.py

# The app's texts (name, descriptions, command menu; English and every shipped language) from the bot's help
# and catalogue into manifest/manifest.template.json and manifest/<language>.json.
.PHONY: manifest-texts
manifest-texts: $(VENV)/.runtime
	$(PY) manifest/write_texts.py

# ruff; mypy (its settings and files in pyproject.toml); import-linter (the contracts in pyproject.toml).
lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports --no-cache

# The suite in TEST_WORKERS processes (pytest-xdist), each with its own redis-server: most tests wait on sockets
# and timers, not on the CPU, so the workers take about half the time of one process. One per CPU (auto): more than
# that, and the tests that time a fault (a replica killed mid-turn, Odoo silent past a 1 s timeout) meet a machine
# too busy to keep their clocks. TEST_WORKERS=0: one process.
TEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS)

test: $(VENV)/.dev redis-server lint tests/cards/node_modules/.installed manifest/node_modules/.installed
	$(PYTEST)

# The reliability tests again on a Redis Cluster (6 redis-server processes) and on Sentinel (a master, a replica,
# 3 sentinels), which the tests start from Debian's redis-server; tests/test_redis_topologies.py, in `make test`,
# runs the key paths and a failover under load on each.
RELIABILITY_TESTS := tests/test_timer_engine.py tests/test_outbox.py tests/test_killed_turn.py tests/test_escalation.py \
	tests/test_escalation_rebuild.py tests/test_lapsed_turns.py tests/test_faults_timers.py
test-redis-topologies: $(VENV)/.dev redis-server
	@for kind in cluster sentinel; do \
	  echo "== the reliability tests on Redis $$kind"; \
	  TEST_REDIS=$$kind $(PYTEST) -q -p no:cacheprovider $(RELIABILITY_TESTS) || exit 1; \
	done
	@echo "== a master failed over under load: cluster (CLUSTER FAILOVER, SIGKILL) and sentinel"
	$(PY) -m pytest -q -p no:cacheprovider -m redis_failover tests/test_redis_topologies.py

# Debian's faketime (libfaketime), to move the clock of everything the tests start but redis-server.
faketime:
	@command -v faketime >/dev/null 2>&1 || { \
	  echo "installing faketime (Debian package)"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null; }

# No test may depend on today's date: the whole suite again under a clock a year ahead, then a year back.
CLOCK_SHIFTS ?= +365d -365d
test-clock: $(VENV)/.dev redis-server faketime tests/cards/node_modules/.installed manifest/node_modules/.installed
	@for shift in $(CLOCK_SHIFTS); do \
	  echo "== the suite with the clock moved $$shift (faketime)"; \
	  faketime -f "$$shift" $(PYTEST) -q -p no:cacheprovider || exit 1; \
	done

# End-to-end: the bot in demo mode driven through the Agents Playground's web page (e2e/run.mjs).
# Debian's chromium is the browser (playwright-core never downloads one); npm packages from the lockfile.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@echo "installing chromium (Debian package)"
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

e2e/node_modules/.installed: e2e/package.json e2e/package-lock.json
	npm ci --prefix e2e --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: e2e
e2e: $(VENV)/.runtime $(CHROMIUM) e2e/node_modules/.installed
	node --test-reporter=spec e2e/run.mjs

bench: $(VENV)/.dev redis-server
	$(PY) bench/turns.py
	$(PY) bench/timers.py
	$(PY) bench/memory.py
	$(PY) bench/trend_memory.py
	$(PY) bench/load.py
	$(PY) bench/redis_burst.py
	$(PY) bench/reminder_storm.py
	$(PY) bench/similar.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/cards/node_modules manifest/node_modules appPackage.zip

# A real Odoo per series (tools/real_odoo.py; docs/real-odoo.md): SERIES=17.0, 18.0 and/or 19.0, all three when
# unset (or ODOO_SRC's own series). Sources from ../shared/odoo/odoo-<S>.tar.xz, or ODOO_SRC=<an Odoo checkout>.
# `odoo-up` writes the connection to .odoo/<S>/env; `odoo-down` stops the server and drops its databases.
.PHONY: odoo-up odoo-down test-odoo
SERIES ?=
odoo-up: $(VENV)/.runtime
	$(PYTHON) tools/real_odoo.py up $(SERIES)

odoo-down:
	$(PYTHON) tools/real_odoo.py down $(SERIES)

# The real-Odoo suite (tests/real_odoo), once per series, against the servers odoo-up brings up.
test-odoo: $(VENV)/.dev odoo-up
	@for s in $$($(PYTHON) tools/real_odoo.py series $(SERIES)); do \
	  echo "== the real-Odoo suite on Odoo $$s"; \
	  ODOO_SERIES=$$s $(PY) -m pytest -m real_odoo -p no:cacheprovider tests/real_odoo || exit 1; \
	done
