# Two commands do all the set-up on a fresh machine:
#   make demo   build a realistic calcium-imaging session, write it to a local store, read it back lazily
#   make test   lint, type-check and run the test suite (in 2 processes; names and the slowest durations shown)
PY := .venv/bin/python
PYTEST_ARGS ?= -n 2 -v --durations=15

.PHONY: setup demo test lint bench clean
setup:
	@bash scripts/bootstrap.sh all,test

demo:
	@bash scripts/bootstrap.sh all
	@.venv/bin/nwbzarr demo

lint: setup
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m ruff format --check src tests benchmarks examples
	$(PY) -m mypy

test: lint
	@bash scripts/install_chromium.sh || echo "make test: chromium not installed: the screenshot test will be skipped"
	@bash scripts/install_node_deps.sh || echo "make test: zarrita.js not installed: the zarrita test will be skipped"
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) benchmarks/run.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache demo.nwb.zarr
