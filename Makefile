# maillage — one command to set up and run each job. See README.md.
#   make demo        set up, start Neo4j (or the memory store), load, analyse and serve the demo
#   make test        set up (venv, packages, chromium, test Neo4j) and run every test
#   make bench       the full benchmark suite (writes BENCHMARKS.md); make bench-quick: a subset
#   make lint        static checks
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup demo test bench bench-quick chromium neo4j-start neo4j-stop lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "maillage needs Python 3.11 or newer ($(PYTHON) is older); set PYTHON=python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Installing Debian's chromium needs root: sudo apt-get install chromium"; exit 1; fi; \
	fi

neo4j-start:
	scripts/neo4j-local start

neo4j-stop:
	scripts/neo4j-local stop

demo: setup
	@scripts/demo

test: setup chromium
	@scripts/test

bench: setup chromium
	@scripts/bench full

bench-quick: setup chromium
	@scripts/bench quick

lint: setup
	$(BIN)/python -m compileall -q maillage graph loaders analysis api

clean:
	-scripts/neo4j-local stop
	MAILLAGE_NEO4J_HOME=.neo4j-test MAILLAGE_NEO4J_PORT=7688 scripts/neo4j-local stop || true
	rm -rf $(VENV) tools/neo4j/target .maillage test-artifacts .neo4j-fault .neo4j-bulk .neo4j-bench
