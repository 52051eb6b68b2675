# The two commands of the README: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-clock lint bench redis-server faketime clean package

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

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

# appPackage.zip for Teams: needs MICROSOFT_APP_ID and BOT_ENDPOINT (TEAMS_APP_ID, APP_VERSION optional).
package: manifest/node_modules/.installed
	$(PYTHON) manifest/build.py

# The app's texts (name, descriptions, command menu; English and every shipped language) from the bot's help
# and catalogue into manifest/manifest.template.json and manifest/<language>.json.
.PHONY: manifest-texts
manifest-texts: $(VENV)/.runtime
	$(PY) manifest/write_texts.py

lint: $(VENV)/.dev
	$(PY) -m ruff check .

test: $(VENV)/.dev redis-server lint tests/cards/node_modules/.installed manifest/node_modules/.installed
	$(PY) -m pytest

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
	  faketime -f "$$shift" $(PY) -m pytest -q -p no:cacheprovider || exit 1; \
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
	$(PY) bench/load.py

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
