# The two quick-start commands: `make run` and `make test`. Both bootstrap what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 5000
export SHUDI_DEMO ?= 1

.PHONY: run test assets chromium deploy demo clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $@

# Front-end packages (bpmn-js, swagger-ui) from npm, copied into service/static/vendor.
assets: $(STAMP)
	@if [ -f package.json ]; then \
	  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund; fi; \
	  npm run --silent build; \
	fi

# Debian's Chromium for the browser tests (never a browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

run: $(STAMP) assets
	$(BIN)/shudi db upgrade
	$(BIN)/shudi deploy
	$(BIN)/shudi demo
	@echo "属地管理流程服务: http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs)"
	$(BIN)/shudi serve --host $(HOST) --port $(PORT) --with-worker

test: $(STAMP) assets chromium
	@SHUDI_DEMO= $(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "FATAL: pytest collected no tests" >&2; fi; exit $$rc

clean:
	rm -rf $(VENV) node_modules service/static/vendor var test-artifacts
