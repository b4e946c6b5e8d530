# Two commands on a fresh machine:  `make demo` (install + load the seeds into the embedded store + write a map)
# and `make test` (install with test extras + build the Neo4j launcher + run the whole suite).

VENV ?= .venv
BIN := $(VENV)/bin
# The first Python >= 3.12 found: on PATH, else under pyenv (whose shims refuse versions not selected).
PYTHON ?= $(shell for p in python3.12 python3.13 python3.14 $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 \
             /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do \
             $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && echo $$p && break; done)

.PHONY: demo explore test install launcher clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "statetech needs Python 3.12 or newer; install it or run 'make PYTHON=/path/to/python3.12'" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/statetech demo

# The demo, then the browser explorer on it at http://127.0.0.1:8765/ (Ctrl-C stops it).
explore: install
	$(BIN)/statetech demo --serve

launcher:
	$(BIN)/python tests/neo4j_server.py --build-only

test: install launcher
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) tests/neo4j_launcher/target statetech-demo.html statetech-map.html
