# goldenimage.avd: development, test and demo entry points.
# Needs only python3.11, make and git; everything else is installed into .venv from PyPI.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
REPO := $(CURDIR)

COLLECTIONS := build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/goldenimage/avd
SANITY_PYTHON ?= 3.11
PYTEST_WORKERS ?= 2

VENV_STAMP := $(VENV)/.goldenimage-requirements.stamp
SIM_STAMP := $(VENV)/.goldenimage-simulator.stamp
HAVE_SIMULATOR := $(wildcard simulator/pyproject.toml)

# azure.azcollection beside this collection: the release the `ansible` community package bundles,
# taken from that package on PyPI (Ansible Galaxy is not needed), with its own pinned requirements
# in a second virtualenv, as an AWX execution environment that has both collections would have them.
AZCOLLECTION_VERSION := 3.12.0
AZCOLLECTION_BUNDLE := 12.3.0
AZC_WHEEL := build/cache/ansible-$(AZCOLLECTION_BUNDLE)-py3-none-any.whl
AZC_COLLECTION := $(COLLECTIONS)/ansible_collections/azure/azcollection
AZC_REQUIREMENTS := $(AZC_COLLECTION)/requirements.txt
AZC_VENV := .venv-azcollection
AZC_BIN := $(AZC_VENV)/bin
AZC_STAMP := $(AZC_VENV)/.goldenimage-requirements.stamp
# test requirements azure.azcollection's pins bound (azure-cli-core): installed at the version they allow
AZC_UNPINNED := cryptography

# A suite that collects no tests fails (pytest exits 5), as does one that skips any test: a gate
# that checked nothing must not pass.
define run_pytest
	mkdir -p build; rc=0; $(or $(3),$(BIN))/pytest -rs $(1) 2>&1 | tee build/pytest-$(2).log || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "== $(2): FAILED, no tests collected"; exit 1; fi; \
	if [ $$rc -eq 0 ] && grep -Eq '^SKIPPED|[0-9]+ skipped' build/pytest-$(2).log; then \
		echo "== $(2): FAILED, tests were skipped (see above)"; exit 1; fi; exit $$rc
endef

export ANSIBLE_COLLECTIONS_PATH := $(REPO)/$(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export ANSIBLE_NOCOLOR := 1
export NO_COLOR := 1
export PATH := $(REPO)/$(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv venv-azcollection collection lint ee sanity unit simtest integration molecule test demo bench clean

help:
	@echo "make demo   run the lifecycle demo against the local simulator"
	@echo "make test   every gate: lint, sanity, unit, simtest, integration, molecule"
	@echo "make bench  measure a 20-host rollout (ARM requests, simulated and real time, user impact)"
	@echo "other targets: venv venv-azcollection collection lint ee sanity unit simtest integration molecule clean"

# ---------------------------------------------------------------------------------- environment

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "python3.11 not found on PATH"; exit 1; }
	"$(PYTHON)" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "need Python 3.11, got " + sys.version)'
	"$(PYTHON)" -m venv $(VENV)

$(VENV_STAMP): test-requirements.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r test-requirements.txt -r requirements.txt
	touch $@

$(SIM_STAMP): $(VENV_STAMP) $(HAVE_SIMULATOR)
	$(if $(HAVE_SIMULATOR),$(BIN)/python -m pip install --quiet -e simulator)
	touch $@

# the collection link too: ansible.cfg resolves goldenimage.avd through it (a plain `ansible-lint`)
venv: $(VENV_STAMP) $(SIM_STAMP) $(COLLECTION_LINK)

# .venv-azcollection: azure.azcollection's whole requirements file, this collection's requirements,
# the test requirements azure.azcollection does not pin, and the simulator
$(AZC_WHEEL): | $(BIN)/python
	$(BIN)/python -m pip download --quiet --no-deps --only-binary :all: --dest $(dir $@) ansible==$(AZCOLLECTION_BUNDLE)

$(AZC_REQUIREMENTS): $(AZC_WHEEL) tools/azcollection.py
	$(BIN)/python tools/azcollection.py extract $(AZC_WHEEL) $(COLLECTIONS) $(AZCOLLECTION_VERSION)
	touch $@

$(AZC_STAMP): $(AZC_REQUIREMENTS) requirements.txt test-requirements.txt $(HAVE_SIMULATOR) | $(BIN)/python
	test -x $(AZC_BIN)/python || "$(PYTHON)" -m venv $(AZC_VENV)
	$(BIN)/python tools/azcollection.py without $(AZC_REQUIREMENTS) test-requirements.txt --unpin $(AZC_UNPINNED) \
		> $(AZC_VENV)/test-requirements.txt
	$(AZC_BIN)/python -m pip install --quiet -r $(AZC_REQUIREMENTS) -r requirements.txt -r $(AZC_VENV)/test-requirements.txt \
		$(if $(HAVE_SIMULATOR),-e simulator)
	touch $@

venv-azcollection: $(AZC_STAMP)

collection: $(COLLECTION_LINK)

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

# ---------------------------------------------------------------------------------- gates

# ansible-lint, and the code-shape gate: functions of at most 60 lines and complexity 20, files of
# at most 600 lines, unless a `# shape: <reason>` comment above the def says why (tools/code_shape.py)
# ansible-lint runs as editors and pre-commit run it: from the root, without ANSIBLE_COLLECTIONS_PATH
# (ansible.cfg resolves the collection from the checkout)
lint: venv collection
	env -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_COLLECTIONS_SCAN_SYS_PATH $(BIN)/ansible-lint --profile production --strict
	$(BIN)/antsibull-changelog lint
	$(BIN)/python tools/code_shape.py plugins simulator/src

# the execution-environment definition must be accepted by ansible-builder, and what it installs
# must resolve beside azure.azcollection: the builder's requirements (_build/requirements.txt), its
# ansible-core and ansible-runner, and azure.azcollection's requirements.txt (from the PyPI `ansible`
# package, as Galaxy would give it) as one set. pip resolves that set in .venv-azcollection, which
# holds azure.azcollection's pins: what the environment already has counts (a fresh resolution of
# the 140 packages against the index takes minutes), anything else comes from the index, and a
# conflict (azure-core>=1.32 against azure.azcollection's ==1.31.0, as before) fails; `pip check`
# then confirms that the environment's dependencies agree.
ee: venv venv-azcollection
	mkdir -p build
	context=$$(mktemp -d "$(REPO)/build/ee.XXXXXX"); trap 'rm -rf "$$context"' EXIT; \
	$(BIN)/ansible-builder create -f meta/execution-environment.yml --context "$$context" --output-filename Containerfile >/dev/null \
		&& test -s "$$context/Containerfile" && test -s "$$context/_build/requirements.txt" && test -s "$$context/_build/bindep.txt" \
		&& grep -q 'azure.azcollection' "$$context/_build/requirements.yml"; \
	echo "== ee: ansible-builder accepted meta/execution-environment.yml"; \
	$(BIN)/python tools/azcollection.py ee-requirements meta/execution-environment.yml "$$context/all-requirements.txt" \
		"$$context/_build/requirements.txt" $(AZC_REQUIREMENTS); \
	$(AZC_BIN)/python -m pip install --quiet --dry-run --report "$$context/report.json" -r "$$context/all-requirements.txt" \
		2> >(grep -v '^WARNING: Location' >&2) && $(AZC_BIN)/python -m pip check >/dev/null \
		|| { echo "== ee: FAILED, the execution environment's requirements do not resolve beside azure.azcollection $(AZCOLLECTION_VERSION)"; exit 1; }; \
	$(AZC_BIN)/python -c 'import json, sys; from importlib.metadata import version; \
		extra = [p["metadata"]["name"] for p in json.load(open(sys.argv[1]))["install"]]; \
		print("== ee: resolves beside azure.azcollection $(AZCOLLECTION_VERSION): %s%s" % (", ".join("%s %s" % (n, version(n)) for n in sys.argv[2:]), \
		      "; from the index: " + ", ".join(extra) if extra else ""))' \
		"$$context/report.json" azure-core azure-identity azure-mgmt-compute azure-mgmt-core azure-mgmt-desktopvirtualization ansible-core ansible-runner

# ansible-test needs a real ansible_collections/<ns>/<name> tree: copy the tracked and the
# untracked-but-not-ignored files (the simulator is a separate package, not collection content)
# into a fresh directory per run, so that runs started at the same time do not disturb each other.
# ansible-test runs every sanity test in its own virtualenv with the requirements it pins itself,
# installed from the package index. Those virtualenvs live under build/ansible-test-home (HOME for
# ansible-test only) and are reused by later runs; their pip comes from .ci/ansible-test-get-pip.py.
ANSIBLE_TEST_HOME := $(REPO)/build/ansible-test-home
SANITY_PIP_VERSION = $(shell $(BIN)/python -c 'from ansible_test._internal.python_requirements import get_venv_packages as g; from ansible_test._internal.host_configs import NativePythonConfig as P; print(g(P(version="$(SANITY_PYTHON)"))["pip"])')

sanity: venv
	mkdir -p build $(ANSIBLE_TEST_HOME)/.ansible/test/cache
	cp .ci/ansible-test-get-pip.py $(ANSIBLE_TEST_HOME)/.ansible/test/cache/get_pip_$(subst .,_,$(SANITY_PIP_VERSION)).py
	root=$$(mktemp -d "$(REPO)/build/sanity.XXXXXX"); trap 'rm -rf "$$root"' EXIT; \
	dest="$$root/ansible_collections/goldenimage/avd"; mkdir -p "$$dest"; \
	git ls-files -z --cached --others --exclude-standard -- . ':!:simulator' ':!:.venv' ':!:build' \
		| while IFS= read -r -d '' f; do [ -e "$$f" ] && printf '%s\0' "$$f"; done \
		| tar --null -T - -cf - | tar -xf - -C "$$dest"; \
	cd "$$dest" && git init -q . && git add -A >/dev/null \
		&& HOME=$(ANSIBLE_TEST_HOME) $(REPO)/$(BIN)/ansible-test sanity --python $(SANITY_PYTHON) --color no

# on both ends of the supported Azure SDK range (see integration)
unit: venv venv-azcollection collection
	$(call run_pytest,-q -p no:cacheprovider tests/unit,unit)
	$(call run_pytest,-q -p no:cacheprovider tests/unit,unit-azcollection,$(AZC_BIN))

simtest: venv
	@if [ -d simulator/tests ]; then \
		$(call run_pytest,-q -p no:cacheprovider -n $(PYTEST_WORKERS) simulator/tests,simtest); \
	else echo "== simtest: FAILED, no simulator/tests"; exit 1; fi

# test_marker_edge_cases.py builds each test on the state the earlier ones left (one module-scoped
# simulator): it runs on its own, in file order, after the others.
# The suite runs on both ends of the supported Azure SDK range: all of it in .venv-azcollection
# (azure.azcollection 3.12.0's pinned SDKs: azure-mgmt-compute 33, azure-core 1.31, msrest models),
# and INTEGRATION_NEWEST, the lifecycle and the files that exercise the most SDK surface, in .venv
# (the newest SDKs, TypeSpec models).
SERIAL_INTEGRATION := tests/integration/test_marker_edge_cases.py
# The roles end to end on the newest SDKs are molecule's (it runs in .venv) and make demo's; here the
# module files that call the most SDK surface (create, capture, clone, deploy, drain, tags, reads).
INTEGRATION_NEWEST := $(addprefix tests/integration/,test_image_capture.py test_vm_clone.py test_marker_tag.py \
	test_hostpool_info.py test_session_host_deploy.py test_hostpool_drain.py)
integration: venv venv-azcollection collection
	$(call run_pytest,-q -p no:cacheprovider -n $(PYTEST_WORKERS) --durations=25 --ignore=$(SERIAL_INTEGRATION) tests/integration,integration-azcollection,$(AZC_BIN))
	$(call run_pytest,-q -p no:cacheprovider $(SERIAL_INTEGRATION),integration-azcollection-in-order,$(AZC_BIN))
	$(call run_pytest,-q -p no:cacheprovider -n $(PYTEST_WORKERS) $(INTEGRATION_NEWEST),integration-newest)

molecule: venv collection
	@scenarios=$$(cd extensions/molecule 2>/dev/null && ls */molecule.yml 2>/dev/null | xargs -r -n1 dirname | sort); \
	if [ -z "$$scenarios" ]; then echo "== molecule: FAILED, no scenarios in extensions/molecule"; exit 1; fi; \
	mkdir -p build/molecule; \
	printf '%s\n' $$scenarios | PATH="$(REPO)/$(BIN):$$PATH" xargs -P 2 -I{} sh -c \
		'molecule test -s {} --no-command-borders > build/molecule/{}.log 2>&1 \
		 && echo "== molecule {}: passed (idempotence included)" \
		 || { tail -n 80 build/molecule/{}.log; echo "== molecule {}: FAILED, full log build/molecule/{}.log"; exit 1; }'


# Every gate runs even when an earlier one fails, so one run shows everything that is wrong;
# the summary gives each gate's result and duration, and the exit code is non-zero if any failed.
GATES := lint ee sanity unit simtest integration molecule

test: venv collection
	@summary=""; failed=""; \
	for gate in $(GATES); do \
		start=$$(date +%s); \
		if $(MAKE) --no-print-directory $$gate; then status=passed; else status=FAILED; failed="$$failed $$gate"; fi; \
		line=$$(printf '%-12s %-7s %5ss' "$$gate" "$$status" "$$(( $$(date +%s) - start ))"); \
		echo "== $$line"; summary="$$summary$$line\n"; \
	done; \
	printf '\n== make test summary\n%b' "$$summary"; \
	if [ -n "$$failed" ]; then echo "== make test: FAILED:$$failed"; exit 1; fi; \
	echo "== make test: all gates passed"

# ---------------------------------------------------------------------------------- demo

demo: venv collection
	$(BIN)/python tools/demo.py

# A benchmark, not a test: it reports what a rollout costs (BENCH_ARGS, e.g. --hosts 40 --json).
BENCH_ARGS ?=
bench: venv collection
	$(BIN)/python tests/benchmarks/bench_rollout.py $(BENCH_ARGS)

clean:
	rm -rf build tests/output
