# make run   -> create .venv from requirements.txt, train, evaluate and save the model, then
#               report: every figure and the run record
# make test  -> create .venv with the test requirements too, lint, then run the test suite
# make lint  -> ruff check and ruff format --check, with the settings in pyproject.toml
# make notebook -> run the tutorial notebook and save its outputs (after changing what it prints)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run test lint notebook clean

run: $(VENV)/.run-deps
	$(PY) src/NN_Numpy.py
	$(PY) src/use_network.py report

test: lint
	MPLBACKEND=Agg $(PY) -m pytest -q tests

notebook: $(VENV)/.test-deps
	$(PY) notebooks/run_notebook.py

lint: $(VENV)/.test-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

$(VENV)/.run-deps: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test-deps: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.run-deps

clean:
	rm -rf models/*.npz models/*.csv reports/figures/*.png .pytest_cache
