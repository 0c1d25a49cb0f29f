# Two commands do all the set-up: `make run` (the app on the embedded defaults) and `make test`.
# Each creates the virtual environment in .venv and installs what it needs on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test demo lint clean chromium notes-vectors questions

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The web app on http://127.0.0.1:8501 with the embedded defaults (no key, no language model).
# The knowledge base is brought up to date first (embedded once, then only what changed).
run: $(STAMP)
	$(PY) -m assistant corpus sync
	$(PY) -m streamlit run ui/app.py --server.address 127.0.0.1 --server.port 8501 --server.headless true \
		--browser.gatherUsageStats false

# Builds the two example cases through the CLI and exports them to out/.
demo: $(STAMP)
	@PATH="$(abspath $(VENV))/bin:$$PATH" PYTHON=$(PY) bash examples/demo.sh

# The browser tests drive Debian's Chromium (never `playwright install`): installed here when missing.
test: $(STAMP) chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update && apt-get install -y chromium chromium-driver fonts-dejavu-core; \
		elif command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then \
			sudo apt-get update && sudo apt-get install -y chromium chromium-driver fonts-dejavu-core; \
		else \
			echo "error: /usr/bin/chromium is missing: the browser tests need it." >&2; \
			echo "Install it as root: apt-get install -y chromium chromium-driver fonts-dejavu-core" >&2; \
			exit 1; \
		fi; \
	fi

clean:
	rm -rf $(VENV) out

# After editing a note: write the notes' vectors shipped beside them (corpus/notes-vectors.npz), so a
# new data home's first build does not embed them (tests/knowledge/test_shipped_vectors.py checks it).
notes-vectors: $(STAMP)
	$(PY) -m assistant.knowledge.shipped

# After editing a file of corpus/questions/: compile the questions with their vectors into
# corpus/questions.npz (tests/knowledge/test_questions.py checks that it matches the YAML files).
questions: $(STAMP)
	$(PY) -m assistant.knowledge.questions
