# Every target creates or updates the environment itself: a fresh machine needs only python3.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen
ESCRISK := $(RUN) escrisk
DEMO_DIR ?= demo-data
# the demo's own state database: `escrisk daily` runs of your own (e.g. for today) cannot block it
DEMO_DB ?= sqlite:///demo.db

.PHONY: env demo test bench lint format notebooks

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet uv

env: $(UV)
	$(UV) sync --frozen --quiet

# the demo's world ends at today's midnight (UTC), read once: its list is today's, due times ahead
DEMO_DAY := $(shell date -u +%F)

demo: env
	$(ESCRISK) simulate --accounts 400 --months 18 --seed 7 --out $(DEMO_DIR) --end-date $(DEMO_DAY)
	$(ESCRISK) validate $(DEMO_DIR)
	$(ESCRISK) train $(DEMO_DIR) --experiment escalation-risk-demo
	$(ESCRISK) promote $(DEMO_DIR)
	@# keep last: today's list for the demo world (from all of its days, which end yesterday), the
	@# report, how to open the page; the day before first (once: a database that holds a run
	@# already has it), so that today's list shows the change since the previous run and why
	@as_of=$(DEMO_DAY) && \
	  before=$$($(RUN) python -c "import datetime as d; print(d.date.fromisoformat('$$as_of') - d.timedelta(days=1))") && \
	  ran=$$(ESCRISK_DATABASE_URL=$(DEMO_DB) $(RUN) python -c "import os; from serving.store import open_for_writing, existing_tables; from serving.dailystore import DailyStore; s = open_for_writing(os.environ['ESCRISK_DATABASE_URL'], create=False); print(int('daily_runs' in existing_tables(s) and bool(DailyStore(s).runs(limit=1))))") && \
	  if [ "$$ran" = 0 ]; then echo "The day before ($$before) first, for the changes since the previous run:" && \
	    ESCRISK_DATABASE_URL=$(DEMO_DB) $(ESCRISK) daily $(DEMO_DIR) --as-of $$before --out reports --no-send >/dev/null && \
	    echo "Today ($$as_of):"; fi && \
	  ESCRISK_DATABASE_URL=$(DEMO_DB) $(ESCRISK) daily $(DEMO_DIR) --as-of $$as_of --out reports --no-send && \
	  echo "" && echo "Report: reports/report-$$as_of.html (one self-contained file; open it in any browser, e.g. xdg-open reports/report-$$as_of.html)" && \
	  echo "List:   reports/risk-list-$$as_of.csv" && \
	  echo "Start the service: ESCRISK_API_TOKENS=demo-token-not-for-production ESCRISK_SOURCE=$(DEMO_DIR) ESCRISK_DATABASE_URL=$(DEMO_DB) $(ESCRISK) serve --port 3000" && \
	  echo "Then open the CSM page at http://127.0.0.1:3000/ui and log in with the token demo-token-not-for-production" && \
	  echo "Ask for an account: curl -s http://127.0.0.1:3000/account -H 'Authorization: Bearer demo-token-not-for-production' -H 'Content-Type: application/json' -d '{\"account_id\": \"$$(sed -n 2p reports/risk-list-$$as_of.csv | cut -d, -f1)\"}'  (POST /score examples: docs/api.md)"

test: env
	$(RUN) pytest -n auto --dist loadfile

# both notebooks run against the project's MLflow store and demo data (after `make demo`, or set
# MLFLOW_TRACKING_URI / ESCRISK_SOURCE / ESCRISK_RUN_ID), written with their outputs as HTML to read
notebooks: env
	$(RUN) jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=900 \
	  --output-dir reports/notebooks notebooks/01-explore-data.ipynb notebooks/02-evaluate-model.ipynb
	@echo "Notebooks: reports/notebooks/01-explore-data.html, reports/notebooks/02-evaluate-model.html"

bench: env
	$(RUN) python benchmarks/run_all.py

lint: env
	$(RUN) ruff check features training serving tests benchmarks
	$(RUN) ruff format --check features training serving tests benchmarks
	$(RUN) mypy features serving

format: env
	$(RUN) ruff format features training serving tests benchmarks
	$(RUN) ruff check --fix features training serving tests benchmarks
