# Two commands do everything on a fresh machine:
#   make demo   set up .venv, train the quick model on the shipped corpus, evaluate it, serve it
#   make test   set up .venv and run the test suite
# Everything else is a building block of those two.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.cxnlp-installed
# torch is pinned to the CPU build that this project is developed and tested with; an
# unpinned torch pulls a multi-GB CUDA build.
TORCH := torch==2.13.0
# hazm 0.10.0 (last release for Python 3.11) pins numpy==1.24.3, which conflicts with
# camel-tools 1.6 and pyarrow; it is installed without its pins (its real dependencies
# are in pyproject.toml). See README "Installation".
HAZM := hazm==0.10.0

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "$(TORCH)"
	$(PIP) install --quiet -e ".[serve,onnx,dev]"
	$(PIP) install --quiet --no-deps "$(HAZM)"
	$(PY) -c "import cxnlp, hazm, camel_tools.utils.charmap, torch, transformers; print('cxnlp environment ready: torch', torch.__version__, 'transformers', transformers.__version__)"
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check cxnlp training serve tests bench scripts

demo: setup
	$(VENV)/bin/cxnlp data validate data/corpus
	$(VENV)/bin/cxnlp detect "وش صار على طلبي؟ ابي اعرف الحين" "سفارشم هنوز نرسیده، چرا انقدر طول میکشه؟"
	$(VENV)/bin/cxnlp normalize "شكراً على التأخير الرائع 😂😂😂😂 @support #خدمة_سيئة https://t.co/x" "من ميخواهم بدونم كي ميرسه"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
