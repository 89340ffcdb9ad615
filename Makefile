# Every target bootstraps .venv itself. Python 3.11+ and make are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUBMISSION ?= .
# Torch's CPU build: on a machine without an NVIDIA GPU it is installed first, so that nothing
# pulls a multi-GB CUDA build. pyproject.toml declares a range that admits it.
TORCH_CPU := torch==2.13.0
NBVAL_FLAGS := --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg

.PHONY: help sandbox-tools grade test unit-test nbval lab stubs release nbgrader bench clean-venv

help:
	@echo "make grade [SUBMISSION=dir]   grade a submission (default: this checkout's coursework/)"
	@echo "make test                     every test, nbval over all notebooks included"
	@echo "make lint                     ruff over autograder, solutions, coursework, benchmarks"
	@echo "make lab                      JupyterLab on the course"
	@echo "make stubs                    regenerate coursework/ from solutions/coursework/"
	@echo "make bench                    benchmarks (ratios printed, not asserted)"
	@echo "make release [RELEASE=dir]    the student release (stubs, public tests, recorded outputs)"
	@echo "make nbgrader [COURSE=dir]    an nbgrader course built from the notebooks"

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "error: could not create $(VENV) with $(PYTHON) -m venv (is python3-venv installed? Python 3.11+ is required)"; exit 1; }
	$(PY) -m pip install -q --upgrade pip
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then \
		echo "NVIDIA GPU found: torch comes from pyproject's range"; \
	else \
		echo "no NVIDIA GPU: installing the CPU build $(TORCH_CPU) first"; \
		$(PY) -m pip install -q "$(TORCH_CPU)" || $(PY) -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu; \
	fi
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

grade: $(VENV)/.installed
	$(PY) -m autograder grade --submission "$(SUBMISSION)"

# bubblewrap contains the grader's worker on Linux; install it where we can (root, apt).
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { \
		if [ "$$(uname)" = Linux ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			apt-get install -y -q bubblewrap >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/dev/null 2>&1) || echo "note: could not install bubblewrap; the grader falls back to process limits"; \
		else echo "note: bubblewrap not installed; the grader falls back to process limits"; fi; }

test: $(VENV)/.installed sandbox-tools
	$(VENV)/bin/ruff check $(LINTED)
	$(PY) -m autograder stubs --check
	$(PY) -m pytest -n 2 --dist loadgroup autograder/tests
	PYTHONPATH=$(CURDIR)/solutions $(PY) -m pytest -p no:cacheprovider $(NBVAL_FLAGS) notebooks

# ruff's rules and exclusions are in pyproject.toml ([tool.ruff]).
LINTED := autograder solutions coursework benchmarks

.PHONY: lint
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(LINTED)

unit-test: $(VENV)/.installed
	$(PY) -m pytest -n 2 --dist loadgroup autograder/tests

nbval: $(VENV)/.installed
	PYTHONPATH=$(CURDIR)/solutions $(PY) -m pytest -p no:cacheprovider $(NBVAL_FLAGS) notebooks

lab: $(VENV)/.installed
	$(VENV)/bin/jupyter lab notebooks

stubs: $(VENV)/.installed
	$(PY) -m autograder stubs

bench: $(VENV)/.installed
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)

# Student release and nbgrader course (README: "Student release, nbgrader, trusted scores").
RELEASE ?= release
COURSE ?= course

release: $(VENV)/.installed
	$(PY) -m autograder release "$(RELEASE)" --force

nbgrader: $(VENV)/.installed
	$(PY) -m autograder nbgrader build "$(COURSE)"
	@echo "next: cd $(COURSE) && source $(CURDIR)/$(VENV)/bin/activate && nbgrader generate_assignment 01_linear"
