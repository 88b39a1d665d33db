# One entry point for people and CI. The README's two commands are `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

RASA_VENV := .venv-rasa
BOT_VENV := .venv-bot
RASA_PY := $(RASA_VENV)/bin/python
BOT_PY := $(BOT_VENV)/bin/python
# The pages' lint and format tool (Biome, pinned in bot/web/package-lock.json), run offline.
WEB := bot/web
# Rasa otherwise sends usage data and crash reports to a third party, from every command.
export RASA_TELEMETRY_ENABLED := false
# PostgreSQL and Redis for the production half of the end-to-end tests (set empty to skip it).
export TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# pip reads these; the quiet flags keep `make run` readable on a fresh machine.
PIP_FLAGS := --disable-pip-version-check --no-input -q

# $(call find_python,3.10): an interpreter of exactly that version, or a message saying how to get one.
define find_python
for p in "$${PYTHON$(subst .,,$(1)):-}" "$$(command -v python$(1) || true)" \
	$$HOME/.pyenv/versions/$(1).*/bin/python$(1) /usr/local/bin/python$(1) /usr/bin/python$(1); do \
	if [ -n "$$p" ] && [ -x "$$p" ] && "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(1))))' 2>/dev/null; then \
		echo "$$p"; exit 0; fi; \
done; \
echo "Python $(1) was not found. $(2)" >&2; \
echo "Install it with pyenv ('pyenv install $(1)'), uv ('uv python install $(1)') or your system's packages" >&2; \
echo "(Ubuntu 22.04: 'apt-get install python$(1) python$(1)-venv')," >&2; \
echo "or point PYTHON$(subst .,,$(1)) at it: 'make $(MAKECMDGOALS) PYTHON$(subst .,,$(1))=/path/to/python$(1)'." >&2; \
exit 1
endef
comma := ,

.PHONY: help run test setup model shell lint format validate test-actions test-rasa test-bot \
	eval-nlu eval-handoff explore fuzz bench bench-nlu bench-rasa bench-claims bench-load browser screenshots clean

help:
	@echo "make run    start the whole system (installs and trains first if needed)"
	@echo "make test   run every check and test"
	@echo "other: setup model shell lint format validate eval-nlu eval-handoff explore fuzz"
	@echo "       bench bench-nlu bench-rasa bench-claims bench-load browser screenshots clean"

## --- the two commands ---------------------------------------------------------------------------

run: setup
	@$(BOT_PY) -m bot.ops.launcher run

test: setup lint validate model test-actions test-rasa test-bot
	@echo "All checks and tests passed."

## --- environments -------------------------------------------------------------------------------

setup: $(RASA_VENV)/.installed $(BOT_VENV)/.installed $(WEB)/node_modules/.installed browser

# Debian's Chromium for the browser tests: Playwright drives it (a test tool's own browser
# download does not work here, so `playwright install` is never run).
CHROMIUM := /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "Installing Debian's chromium for the browser tests ..."; \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q chromium >/dev/null 2>&1 || \
				{ apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } || true; \
		fi; \
		[ -x $(CHROMIUM) ] || echo "Could not install chromium: it needs root and Debian's apt-get \
	('sudo apt-get install chromium'). Everything but the browser tests works without it." >&2; \
	fi

# Rasa 3.6 needs Python 3.10, and setuptools 67.8.0 in place before it installs (its randomname
# dependency does not build with newer ones). The encoders and language ID go in without their
# declared dependencies: actions/requirements-nodeps.lock says why.
$(RASA_VENV)/.installed: actions/requirements.lock actions/requirements-nodeps.lock
	@py=$$($(call find_python,3.10,Rasa Open Source 3.6 and rasa-sdk 3.6 run only on Python 3.10.)); \
	echo "Creating $(RASA_VENV) with $$py (Rasa, action server; takes a few minutes once) ..."; \
	[ -x $(RASA_PY) ] || "$$py" -m venv $(RASA_VENV); \
	$(RASA_PY) -m pip install $(PIP_FLAGS) pip==24.2 setuptools==67.8.0 wheel; \
	$(RASA_PY) -m pip install $(PIP_FLAGS) -r actions/requirements.lock; \
	$(RASA_PY) -m pip install $(PIP_FLAGS) --no-deps -r actions/requirements-nodeps.lock
	@touch $@

$(BOT_VENV)/.installed: bot/requirements.lock
	@py=$$($(call find_python,3.11,The bot service runs on Python 3.11.)); \
	echo "Creating $(BOT_VENV) with $$py (bot service, lint and test tools) ..."; \
	[ -x $(BOT_PY) ] || "$$py" -m venv $(BOT_VENV); \
	$(BOT_PY) -m pip install $(PIP_FLAGS) --upgrade pip; \
	$(BOT_PY) -m pip install $(PIP_FLAGS) -r bot/requirements.lock
	@touch $@

# npm ci installs exactly what the lock says, again only when the lock has changed. Only the
# linter needs it: without npm, `make run` goes on and `make lint` says what is missing.
$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "npm was not found: the JavaScript and CSS linter (make \
	lint) needs Node.js and npm ('apt-get install nodejs npm'); the rest works without." >&2; exit 0; }
	@echo "Installing the pages' lint tools into $(WEB)/node_modules (npm ci) ..."
	@cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## --- model --------------------------------------------------------------------------------------

model: setup
	@$(BOT_PY) -m bot.ops.launcher train

# Chat with the bot in this terminal (needs `make run` in another shell for the action server).
shell: setup
	@$(BOT_PY) -m bot.ops.launcher shell

## --- checks -------------------------------------------------------------------------------------

# Python with ruff and mypy; the pages' JavaScript and CSS with Biome (bot/web/biome.json).
lint: $(BOT_VENV)/.installed $(WEB)/node_modules/.installed
	$(BOT_VENV)/bin/ruff format --check .
	$(BOT_VENV)/bin/ruff check .
	$(BOT_VENV)/bin/mypy
	@[ -x $(WEB)/node_modules/.bin/biome ] || { echo "Biome is not installed: install Node.js \
	and npm, then run make setup." >&2; exit 1; }
	cd $(WEB) && node_modules/.bin/biome ci --colors=off .
	@# the formatter can't break a long string: such lines are split by hand
	@awk 'length > 100 { print FILENAME ":" FNR ": longer than 100 characters"; bad = 1 } \
		END { exit bad }' $(WEB)/static/*/*.js $(WEB)/static/*/*.css

format: $(BOT_VENV)/.installed $(WEB)/node_modules/.installed
	$(BOT_VENV)/bin/ruff format .
	$(BOT_VENV)/bin/ruff check --fix .
	cd $(WEB) && node_modules/.bin/biome check --write .

validate: $(RASA_VENV)/.installed
	$(RASA_VENV)/bin/rasa data validate --fail-on-warnings

test-actions: $(RASA_VENV)/.installed
	$(RASA_PY) -m pytest tests/actions

# Held-out NLU accuracy and test stories against the trained model.
test-rasa: model
	RASA_MODEL=$$($(BOT_PY) -m bot.ops.launcher model-path) $(RASA_PY) -m pytest tests/nlu tests/stories

# The service (with the pages in a real browser, tests/bot/web/pages), and end-to-end tests against
# real Rasa and action servers.
test-bot: model
	$(BOT_PY) -m pytest tests/test_layout.py tests/bot tests/shop tests/e2e

# The longer fuzz of every route from docs/openapi.yaml (make test runs a bounded one): prints the
# probe counts, requests sent and 500s found.
fuzz: $(BOT_VENV)/.installed
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-60} $(BOT_PY) -m pytest -s tests/bot/test_openapi.py

# The README's screenshots (docs/*.png), from the browser tests of the whole journey and of the
# designer's pages.
screenshots: model browser
	SCREENSHOTS=docs $(BOT_PY) -m pytest -q tests/bot/web/pages/test_journey.py tests/bot/web/pages/test_designer.py

## --- measurements (not tests) -------------------------------------------------------------------

eval-nlu: model
	RASA_MODEL=$$($(BOT_PY) -m bot.ops.launcher model-path) $(RASA_PY) -m tests.nlu.evaluate

eval-handoff: model
	RASA_MODEL=$$($(BOT_PY) -m bot.ops.launcher model-path) $(RASA_PY) -m tests.handoff.evaluate

# Benchmarks print figures (and write docs/benchmarks.md); they do not pass or fail.
bench: bench-nlu bench-rasa bench-load

# The shipped NLU pipeline and a linear baseline on Banking77, CLINC150 and xSID en/id/zh
# (../shared/datasets), and PhoATIS (vi) when PHOATIS_DIR names its folder (never copied here).
# One part alone: `.venv-rasa/bin/python -m tests.bench.nlu_public --only xsid`. Then the same
# classifier on 5 to 50 examples per intent, as an adopting company starts (tests/bench/fewshot.py).
bench-nlu: $(RASA_VENV)/.installed
	$(RASA_PY) -m tests.bench.nlu_public
	$(RASA_PY) -m tests.bench.fewshot

bench-rasa: model
	$(BOT_PY) -m tests.bench.rasa_latency

# 1-200 simulated customers on websockets through the service and straight to Rasa, handoff
# latency to an agent's desk, and cold start of the run command (about 8 minutes).
bench-load: model
	$(BOT_PY) -m tests.bench.load

# The lifecycle state machine (tests/bot/conversations/test_lifecycle.py) for longer than `make test` runs it,
# with a random seed printed for replay: `make explore SEED=123`.
explore: $(BOT_VENV)/.installed
	@seed=$${SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "Exploring the conversation lifecycle with seed $$seed (replay: make explore SEED=$$seed)"; \
	LIFECYCLE_EXAMPLES=$${EXAMPLES:-300} LIFECYCLE_STEPS=$${STEPS:-60} \
		$(BOT_PY) -m pytest -q -s -p no:cacheprovider tests/bot/conversations/test_lifecycle.py \
		--hypothesis-seed=$$seed -k "invariants"

# Ten agents clicking "claim" on one ticket at once, on SQLite and PostgreSQL.
bench-claims: $(BOT_VENV)/.installed
	$(BOT_PY) -m tests.bench.claim_contention

clean:
	rm -rf $(RASA_VENV) $(BOT_VENV) $(WEB)/node_modules results .pytest_cache .mypy_cache .ruff_cache
