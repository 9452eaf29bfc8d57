# Two commands: `make run` (the whole system, embedded defaults) and `make test`.
VENV    := .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST  := $(PYTHON) -m pytest -p no:cacheprovider

.PHONY: run test test-postgresql test-sqlite test-deploy lock bench bench-large system-packages browser-packages test-plone test-volto clean translations compile-translations

$(STAMP): pyproject.toml
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev,test]"
	@rm -f $(VENV)/.installed-*; touch $@

system-packages:
	@./deploy/system-packages.sh

# The browser tests (tests/embed): Debian's Chromium, and axe-core from package-lock.json.
browser-packages:
	@./deploy/system-packages.sh --browser

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Translations (shared/i18n.py, README "Translations"): one catalogue per domain and language
# in shared/locales/. `make translations` extracts every text of the code and templates into
# the .pot files, merges them into each language's .po (new texts come in empty, changed
# ones fuzzy: the test fails until a translator has done them) and compiles the .mo files,
# which are built, never committed; `make run` and `make test` compile them too.
LOCALES := shared/locales
PYBABEL := $(VENV)/bin/pybabel
DOMAINS := messages backoffice

translations: $(STAMP)
	@for domain in $(DOMAINS); do \
		$(PYBABEL) -q extract -F $(LOCALES)/$$domain.cfg -k problem:2 -k plural_problem:2,3 -k translate:2 -k translate_plural:2,3 -k N_ --add-location=file --sort-by-file \
			--no-wrap --project=EU-POLNET --copyright-holder=Efus -o $(LOCALES)/$$domain.pot . && \
		$(PYBABEL) -q update -i $(LOCALES)/$$domain.pot -d $(LOCALES) -D $$domain --no-wrap --ignore-obsolete || exit 1; \
	done
	@$(MAKE) --no-print-directory compile-translations

compile-translations: $(STAMP)
	@for domain in $(DOMAINS); do $(PYBABEL) -q compile -d $(LOCALES) -D $$domain 2>&1 || exit 1; done

run: $(STAMP) system-packages compile-translations
	$(VENV)/bin/eupolnet run

# The whole suite on PostgreSQL, then the service suites again on SQLite.
test: $(STAMP) browser-packages node_modules/.package-lock.json compile-translations
	@$(MAKE) --no-print-directory test-postgresql
	@$(MAKE) --no-print-directory test-sqlite

test-postgresql: $(STAMP)
	@if $(PYTHON) -c "import sys; from ops.testing import postgres_available as a; sys.exit(not a())"; then \
		TEST_DATABASE=postgresql $(PYTEST) tests -m "not deploy"; \
	elif [ -n "$$CI" ]; then echo "PostgreSQL is not reachable (TEST_POSTGRES_URL) but CI needs it" >&2; exit 1; \
	else echo "PostgreSQL is not reachable: skipping the PostgreSQL run (set TEST_POSTGRES_URL)"; fi

test-sqlite: $(STAMP)
	TEST_DATABASE=sqlite $(PYTEST) tests -m "not postgresql_only and not deploy"

# Production as deployed (tests/deploy, marker `deploy`): the image's install step in a clean
# virtualenv from the lock file, and the cluster test (network namespaces, nginx; needs root),
# which prints its figures.
test-deploy: $(STAMP)
	@./deploy/system-packages.sh --deploy
	TEST_DATABASE=postgresql $(PYTEST) -s tests/deploy -m deploy

# Rebuild deploy/requirements.lock (pinned, hashed runtime dependencies) from pyproject.toml.
lock:
	@test -x var/lock-venv/bin/pip-compile || (python3 -m venv var/lock-venv && var/lock-venv/bin/pip install --quiet pip-tools)
	var/lock-venv/bin/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
		--allow-unsafe --output-file deploy/requirements.lock pyproject.toml

# The Plone add-on (plugins/eupolnet.plone): its integration tests (plone.app.testing, no
# browser) in var/plone-venv, then a real Plone 6.2 site in Chromium. Its own CI step: Plone
# lives in var/plone-venv (pinned by the add-on's constraints.txt, rebuilt when the pins
# change), never in the services' venv.
PLONE_VENV := var/plone-venv

test-plone: $(STAMP) compile-translations
	@./deploy/system-packages.sh --browser
	$(PYTHON) plugins/eupolnet.plone/tests/browser/plone_instance.py
	$(PLONE_VENV)/bin/python -m pytest -p no:cacheprovider plugins/eupolnet.plone/tests/integration
	$(PYTEST) plugins/eupolnet.plone/tests/browser

# The Volto add-on (plugins/volto-eupolnet): its unit tests (Vitest), then a Volto site built
# from the npm registry (pinned by its package-lock.json; rebuilt only when the lock file, the
# add-on or the build configuration change) in front of a real Plone 6.2 backend, in Chromium.
VOLTO := plugins/volto-eupolnet
VOLTO_SOURCES := $(shell find $(VOLTO)/packages $(VOLTO)/src $(VOLTO)/locales -type f -not -name '*.json' -not -name '*.test.*' -not -path '*/node_modules/*' 2>/dev/null)

$(VOLTO)/node_modules/.package-lock.json: $(VOLTO)/package.json $(VOLTO)/package-lock.json
	cd $(VOLTO) && npm ci --no-audit --no-fund --loglevel=error

$(VOLTO)/build/server.js: $(VOLTO)/node_modules/.package-lock.json $(VOLTO)/babel.config.js $(VOLTO)/razzle.config.js $(VOLTO)/volto.config.js $(VOLTO_SOURCES)
	cd $(VOLTO) && npx razzle build --noninteractive

test-volto: $(STAMP) compile-translations node_modules/.package-lock.json $(VOLTO)/node_modules/.package-lock.json
	@./deploy/system-packages.sh --browser
	cd $(VOLTO) && npx vitest run
	@$(MAKE) --no-print-directory $(VOLTO)/build/server.js
	$(PYTHON) plugins/eupolnet.plone/tests/browser/plone_instance.py
	$(PYTEST) $(VOLTO)/tests

bench: $(STAMP) compile-translations
	@./deploy/system-packages.sh --bench
	$(PYTHON) bench/run.py

# The large-data benchmark alone (bench/large_data.py, also part of `make bench`): it loads
# a large PostgreSQL database first (1-2 minutes), then measures for about 2 minutes.
bench-large: $(STAMP) compile-translations
	@./deploy/system-packages.sh --bench
	$(PYTHON) bench/run.py large_data.py

clean:
	rm -rf $(VENV) node_modules var/*.sqlite3* var/redis var/mail var/screenshots $(VOLTO)/node_modules $(VOLTO)/build $(VOLTO)/cache
