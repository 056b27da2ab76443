# Stockroom: two commands on a fresh machine.
#   make run    venv, install, migrate, seed the demo organisation, start Redis + web + worker
#   make test   venv, install, full test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
export FLASK_APP := wsgi

.PHONY: run test lint bench install worker clean-instance

install: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

run: install
	$(PY) -m app.serve

worker: install
	$(PY) worker.py

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

# The benchmarks, in the order `make bench` runs them (bench/make_*.py build fixtures; they are not benchmarks).
BENCHES = warm_worker pipeline batches events inventory memory analysis identify inbox attention orders \
	listings techfiles backup refdata recovery pages

bench: install
	@results=$$(mktemp); started=$$(date +%s); trap 'rm -f "$$results"' EXIT; \
	for b in $(BENCHES); do echo "== bench/$$b.py"; BENCH_RESULTS="$$results" $(PY) bench/$$b.py || exit 1; done; \
	$(PY) bench/report.py "$$results" "$$started"

clean-instance:
	rm -rf instance
