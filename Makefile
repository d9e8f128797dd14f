# 药监云 Yaojian — `make run` serves the demo district; `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK = 1
export DJANGO_ALLOW_ASYNC_UNSAFE = true

.PHONY: run test setup assets static lint test-sqlite test-postgres bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json
	bash scripts/system-deps.sh --runtime
	npm install --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

static: setup
	$(PY) manage.py collectstatic --noinput -v0

run: static
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py demo --if-empty
	@echo "药监云 serving at http://$(HOST):$(PORT)/"
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload

lint: setup
	$(PY) -m ruff check yaojian benchmarks

test-sqlite: setup
	$(PY) -m pytest -q

test-postgres: setup
	bash scripts/with-postgres.sh $(PY) -m pytest -q

test: setup
	bash scripts/system-deps.sh
	$(MAKE) static lint
	@echo "== tests on SQLite =="
	$(PY) -m pytest -q
	@echo "== tests on PostgreSQL =="
	bash scripts/with-postgres.sh $(PY) -m pytest -q

bench: static
	@echo "see benchmarks/README.md"

clean:
	rm -rf var staticfiles test-artifacts
