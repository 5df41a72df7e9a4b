# The two commands a newcomer needs: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
FLASK  := $(BIN)/flask --app wsgi

.PHONY: install catalogs migrate run test lint format bench screenshots clean

# Re-install when the dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed catalogs

# The catalogs of the portal and of what the system writes into groups, compiled by the build
# (the compiled files are not kept in git; the tests check that the catalogs hold exactly the
# code's strings, each with its Chinese).
PORTAL  := blueprints/dealer_portal
catalogs: $(VENV)/.installed
	@cd $(PORTAL) && ../../$(BIN)/pybabel compile -d translations 2>/dev/null
	@$(BIN)/pybabel compile -D system -d service/translations 2>/dev/null

migrate: install
	$(FLASK) db upgrade

# Web (gunicorn) and a worker on the embedded defaults, with the demo chain. One process
# starts them and, on Ctrl-C or a SIGTERM to make, stops them and the embedded Redis server.
run: migrate
	@exec $(FLASK) demo serve --port $(PORT)

# The suite on the embedded defaults; then again on PostgreSQL/Redis when DATABASE_URL or
# REDIS_URL point at them (the tests wipe that database: its name must contain "test").
test: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$$DATABASE_URL$$REDIS_URL" ]; then \
		echo "== again on DATABASE_URL=$${DATABASE_URL:-(embedded)} REDIS_URL=$${REDIS_URL:-(embedded)}"; \
		$(BIN)/pytest $(PYTEST_ARGS); \
	fi

# The layers (pyproject.toml, [tool.importlinter]): arrows point one way.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/import_directory.py

# The portal's main pages in both languages, on a desktop and a phone, as the browser tests
# see them; the README shows them.
screenshots: install
	env -u DATABASE_URL -u REDIS_URL PORTAL_SHOTS=docs/screenshots \
		$(BIN)/pytest -q tests/blueprints/dealer_portal/test_screenshots.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
