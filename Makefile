# Two commands do all the set-up: `make run` (the app on the embedded defaults) and `make test`.
# Each creates the virtual environment in .venv and installs what it needs on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test demo lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: demo

# Builds the two example cases through the CLI and exports them to out/.
demo: $(STAMP)
	@PATH="$(abspath $(VENV))/bin:$$PATH" PYTHON=$(PY) bash examples/demo.sh

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

clean:
	rm -rf $(VENV) out
