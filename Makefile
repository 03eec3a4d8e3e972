# Two commands do everything on a fresh machine:
#   make demo   set up .venv, train the quick model on the shipped corpus, evaluate it, serve it
#   make test   set up .venv and run the test suite
# Everything else is a building block of those two.

PORT ?= 8000

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

.PHONY: setup demo test lint bench train-default train-linear clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "$(TORCH)"
	$(PIP) install --quiet -e ".[serve,onnx,spark,dev]"
	$(PIP) install --quiet --no-deps "$(HAZM)"
	$(PY) -c "import cxnlp, hazm, camel_tools.utils.charmap, torch, transformers; print('cxnlp environment ready: torch', torch.__version__, 'transformers', transformers.__version__)"
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check cxnlp training serve tests bench scripts

QUICK := models/cx-quick/cxnlp.json
CORPUS := $(wildcard data/corpus/*.jsonl)

$(QUICK): training/configs/quick.yaml data/taxonomy.yaml $(CORPUS) | setup
	$(VENV)/bin/cxnlp train -c training/configs/quick.yaml

demo: setup $(QUICK)
	$(VENV)/bin/cxnlp evaluate models/cx-quick --data data/corpus --split test -o reports/cx-quick
	@echo ""
	@echo "Serving models/cx-quick on http://127.0.0.1:$(PORT) (Ctrl-C to stop). Try, in another terminal:"
	@echo "  curl -s localhost:$(PORT)/v1/classify -H 'content-type: application/json' -d '{\"text\": \"الطلب تأخر ثلاث أيام وما حد رد علي\"}'"
	$(VENV)/bin/cxnlp serve models/cx-quick --port $(PORT)

train-default: setup
	$(VENV)/bin/cxnlp train -c training/configs/default.yaml

train-linear: setup
	$(VENV)/bin/cxnlp train -c training/configs/linear.yaml

bench: setup
	$(PY) bench/bench_normalize.py
	$(PY) bench/bench_inference.py
	$(PY) bench/bench_quality.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis runs reports
