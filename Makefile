# Every target bootstraps .venv itself. Python 3.11+ and make are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUBMISSION ?= .
# Torch's CPU build: on a machine without an NVIDIA GPU it is installed first, so that nothing
# pulls a multi-GB CUDA build. pyproject.toml declares a range that admits it.
TORCH_CPU := torch==2.13.0
NBVAL_FLAGS := --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg
# JupyterLab: as root (containers, cloud notebooks) it must be allowed explicitly; the
# environment's programs go first on PATH (nbgrader runs some, e.g. alembic, as programs); the
# news popup is turned off in the environment's settings overrides.
LAB_FLAGS := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
LAB_DIR ?= notebooks
LAB_ARGS ?=
LAB_PATH := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
LAB_QUIET := $(PY) -c 'import json, os, sys; p = sys.argv[1]; os.makedirs(os.path.dirname(p), exist_ok=True); d = json.load(open(p)) if os.path.exists(p) else {}; d.setdefault("@jupyterlab/apputils-extension:notification", {}).update(fetchNews="false", checkForUpdates=False); json.dump(d, open(p, "w"), indent=2)'

.PHONY: help sandbox-tools grade test unit-test nbval lab check stubs release nbgrader formgrader \
	smoke smoke-tools bench clean-venv test-gpu

help:
	@echo "make grade [SUBMISSION=dir]   grade a submission (default: this checkout's coursework/)"
	@echo "make test                     every test, nbval over all notebooks included"
	@echo "make test-gpu                 the GPU suite and GPU benchmarks (skipped without a GPU)"
	@echo "make lint                     ruff over autograder, solutions, coursework, benchmarks"
	@echo "make lab                      JupyterLab on the course"
	@echo "make check F=linear.svm_loss_naive   check functions, a module or a unit (F=01; F=a,b)"
	@echo "make stubs                    regenerate coursework/ from solutions/coursework/"
	@echo "make bench                    benchmarks (ratios printed, not asserted)"
	@echo "make release [RELEASE=dir]    the student release (stubs, public tests, recorded outputs)"
	@echo "make nbgrader [COURSE=dir]    an nbgrader course built from the notebooks"
	@echo "make formgrader [COURSE=dir]  JupyterLab with the Formgrader on the course (builds it)"
	@echo "make smoke                    real-browser test: JupyterLab, a check cell, the Formgrader"

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "error: could not create $(VENV) with $(PYTHON) -m venv (is python3-venv installed? Python 3.11+ is required)"; exit 1; }
	$(PY) -m pip install -q --upgrade pip
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then \
		echo "NVIDIA GPU found: torch comes from pyproject's range"; \
	else \
		echo "no NVIDIA GPU: installing the CPU build $(TORCH_CPU) first"; \
		$(PY) -m pip install -q "$(TORCH_CPU)" || $(PY) -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu; \
	fi
	$(PY) -m pip install -q -e '.[dev,cluster]'
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then \
		$(PY) autograder/gpu_setup.py || { echo "error: could not install the CUDA builds (see above)"; exit 1; }; \
	fi
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
	$(PY) -m pytest -n 2 --dist loadgroup --durations=15 autograder/tests
	@if [ "$(SMOKE)" = 1 ]; then $(MAKE) --no-print-directory smoke; \
	else echo "note: the browser smoke test is skipped (it runs by default on Linux; make smoke, or make test SMOKE=1)"; fi
	PYTHONPATH=$(CURDIR)/solutions $(PY) -m pytest -p no:cacheprovider $(NBVAL_FLAGS) notebooks

# ruff's rules and exclusions are in pyproject.toml ([tool.ruff]).
LINTED := autograder solutions coursework benchmarks

.PHONY: lint
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(LINTED)

# The GPU suite (pytest marker gpu): every unit's reference on CuPy against the CPU, grading and
# one notebook per unit on the GPU, then the GPU benchmarks. Skipped, with the reason, without one.
test-gpu: $(VENV)/.installed sandbox-tools
	$(PY) -m pytest -m gpu -rs autograder/tests
	$(PY) benchmarks/gpu_benchmark.py

unit-test: $(VENV)/.installed
	$(PY) -m pytest -n 2 --dist loadgroup autograder/tests

nbval: $(VENV)/.installed
	PYTHONPATH=$(CURDIR)/solutions $(PY) -m pytest -p no:cacheprovider $(NBVAL_FLAGS) notebooks

lab: $(VENV)/.installed
	@$(LAB_QUIET) $(LAB_OVERRIDES)
	$(LAB_PATH) $(VENV)/bin/jupyter lab $(LAB_FLAGS) $(LAB_ARGS) "$(LAB_DIR)"

check: $(VENV)/.installed
	@$(PY) -m autograder.notebook_check $(F)

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

# The Formgrader needs nothing activated: the environment's programs go first on PATH.
formgrader: $(VENV)/.installed
	@test -f "$(COURSE)/nbgrader_config.py" || $(PY) -m autograder nbgrader build "$(COURSE)"
	@$(LAB_QUIET) $(LAB_OVERRIDES)
	cd "$(COURSE)" && $(LAB_PATH) "$(CURDIR)/$(VENV)/bin/jupyter" lab $(LAB_FLAGS) $(LAB_ARGS)

# Real-browser smoke test: Debian's chromium (apt, as root) and the playwright package driving it
# (no browser download). Screenshots go to SMOKE_SHOTS.
SMOKE_SHOTS ?= smoke-screenshots
# make test runs it on Linux (SMOKE=0 leaves it out, SMOKE=1 forces it elsewhere).
SMOKE ?= $(if $(filter Linux,$(shell uname -s 2>/dev/null)),1,0)
smoke-tools: $(VENV)/.installed
	@command -v chromium >/dev/null 2>&1 || { \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1) || { echo "error: could not install chromium (apt-get install chromium)"; exit 1; }; \
		else echo "error: chromium is missing: install Debian's chromium package (apt-get install chromium)"; exit 1; fi; }
	@$(PY) -c "import playwright" 2>/dev/null || $(PY) -m pip install -q playwright

smoke: smoke-tools
	SMOKE_SHOTS="$(abspath $(SMOKE_SHOTS))" $(PY) -m pytest -p no:cacheprovider -q tests/test_smoke.py
