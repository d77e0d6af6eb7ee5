# make run   -> create .venv from requirements.txt, then train, evaluate and plot
# make test  -> create .venv with the test requirements too, then run the test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run test clean

run: $(VENV)/.run-deps
	$(PY) src/NN_Numpy.py

test: $(VENV)/.test-deps
	MPLBACKEND=Agg $(PY) -m pytest -q tests

$(VENV)/.run-deps: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test-deps: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.run-deps

clean:
	rm -rf data/processed/*.npz models/*.npz reports/figures/*.png .pytest_cache
