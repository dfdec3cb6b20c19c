# Botfleet: `make run` serves the demo, `make test` runs the whole suite. Only Python 3.11+ is needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(PY) -m flask --app wsgi
STAMP := $(VENV)/.installed
export TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: lint run test test-sqlite test-postgres install translations messages assets browser db clean bench bench-full

run: db translations
	@$(FLASK) seed-demo
	@SANDBOX_ALLOW_HTTP_WEBHOOKS=1 $(FLASK) serve --host 127.0.0.1 --port 5000

# The two legs run side by side (they share no database, port, Redis key or file); each leg's output is
# printed whole when it ends, and the run fails if either leg does.
test: install lint translations browser
	@echo "Running the SQLite and Postgres legs side by side; each prints its report when it finishes."
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

# ruff (pyproject.toml): pyflakes, pycodestyle, bugbear, pyupgrade and import sorting; `ruff check --fix .` mends most.
lint: install
	$(VENV)/bin/ruff check .

test-sqlite: install translations
	$(PY) -m pytest --db sqlite

# Skips with one line outside CI when no Postgres answers; in CI (CI=true) that fails the run.
test-postgres: install translations
	$(PY) -m pytest --db postgres

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

# Message catalogs (.po) are committed; their compiled .mo files are built here.
translations: install
	@for dir in app/translations bots/locales; do \
		if [ -d $$dir ]; then $(VENV)/bin/pybabel -q compile -f -d $$dir; fi; \
	done

# Bootstrap's right-to-left CSS (for Persian) is not in Bootstrap-Flask, so it is committed under
# static/vendor/. `make assets` refreshes it from the npm registry's bootstrap package of the version
# Bootstrap-Flask serves (a maintainer's step when upgrading; needs npm).
BOOTSTRAP_VERSION := 5.3.8
# Swagger UI for /api/v1/docs, committed under static/vendor/ too (the product works offline).
SWAGGER_UI_VERSION := 5.35.0
SWAGGER_DIR := static/vendor/swagger-ui
SWAGGER_FILES := swagger-ui-bundle.js swagger-ui-standalone-preset.js swagger-ui.css favicon-32x32.png LICENSE NOTICE
RTL_CSS := static/vendor/bootstrap/bootstrap.rtl.min.css

assets:
	@mkdir -p $(dir $(RTL_CSS))
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent bootstrap@$(BOOTSTRAP_VERSION) >/dev/null && \
		tar -xzf bootstrap-$(BOOTSTRAP_VERSION).tgz package/dist/css/bootstrap.rtl.min.css && \
		cp package/dist/css/bootstrap.rtl.min.css $(CURDIR)/$(RTL_CSS) && rm -rf $$tmp
	@echo "Vendored Bootstrap $(BOOTSTRAP_VERSION) RTL CSS into $(RTL_CSS)"
	@mkdir -p $(SWAGGER_DIR)
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null && \
		tar -xzf swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz && \
		cp $(addprefix package/,$(SWAGGER_FILES)) $(CURDIR)/$(SWAGGER_DIR)/ && rm -rf $$tmp
	@echo "Vendored Swagger UI $(SWAGGER_UI_VERSION) into $(SWAGGER_DIR) (the /api/v1/docs page)"

# The browser tests drive Debian's chromium. Root installs it; anyone else gets one line and the
# browser tests skip (in CI, where CI=true, they fail instead).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get install -y chromium >/dev/null 2>&1 || \
		(apt-get update >/dev/null && apt-get install -y chromium >/dev/null); \
	else echo "Browser tests will be skipped: /usr/bin/chromium is missing; as root run: apt-get install -y chromium"; fi

# After changing texts: refresh the catalog template and the .po files, then translate the new entries.
messages: install
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -o app/translations/messages.pot .
	$(VENV)/bin/pybabel -q update --no-fuzzy-matching -i app/translations/messages.pot -d app/translations

# Benchmarks (bench/README.md): not part of `make test`; they need the Postgres of TEST_POSTGRES_URL.
# `make bench` is the quick run (10k members, a few minutes); `make bench-full` the 1M-member one.
BENCH_BOTS ?= 200
bench: install translations
	$(PY) -m bench.run_all --members 10000
	$(PY) -m bench.p7_polling_bots --bots $(BENCH_BOTS)
	$(PY) -m bench.p7_polling_bots --mode webhook --bots 1000
	$(PY) -m bench.p1_bot_updates
	$(PY) -m bench.p2_webhook
	$(PY) -m bench.broadcast_throughput
	$(PY) -m bench.webhook_latency

bench-full: install translations
	$(PY) -m bench.run_all --members 1000000
	$(PY) -m bench.p7_polling_bots --bots 1000
	$(PY) -m bench.p7_polling_bots --mode webhook --bots 10000
	$(PY) -m bench.p1_bot_updates
	$(PY) -m bench.p2_webhook --requests 5000
	$(PY) -m bench.broadcast_throughput
	$(PY) -m bench.webhook_latency

db: install
	@$(FLASK) db upgrade

clean:
	rm -rf $(VENV) .pytest_cache
