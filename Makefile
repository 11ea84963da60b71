# Two entry points: `make demo` and `make test`. Each builds .venv with the machine's python3
# when it is missing and installs hfs_emg (editable) with what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LINT   := hfs_emg tests $(wildcard benchmarks example_data notebooks docs)

.PHONY: browser demo test test-no-shared docs notebooks examples lint format install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/hfs-emg demo --out demo_output

# Debian's chromium for the live page's browser test (tests/test_live_page.py), if missing.
browser:
	@sh .ci/install_chromium.sh

test: $(STAMP) browser
	$(BIN)/ruff check $(LINT)
	$(BIN)/ruff format --check $(LINT)
	$(BIN)/python -m pytest

# The test files that use ../shared/data, run as a fresh clone without it sees them.
test-no-shared: $(STAMP)
	HFS_EMG_SHARED_DATA=$(CURDIR)/.no-shared-data $(BIN)/python -m pytest -q -p no:cacheprovider \
		$$(grep -l "shared_data" tests/*.py | grep -v conftest.py)

docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python -m sphinx -W -b html docs docs/_build/html

# JupyterLab in .venv and a kernel named "hfs-emg" that runs this checkout's hfs_emg.
notebooks: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[notebooks]"
	$(BIN)/python -m ipykernel install --user --name hfs-emg --display-name "Python (hfs_emg)"
	$(BIN)/jupyter lab notebooks/

examples: $(STAMP)
	$(BIN)/python example_data/make_examples.py

lint: $(STAMP)
	$(BIN)/ruff check $(LINT)

format: $(STAMP)
	$(BIN)/ruff format $(LINT)
	$(BIN)/ruff check --fix $(LINT)

clean:
	rm -rf $(VENV) demo_output .pytest_cache .ruff_cache
