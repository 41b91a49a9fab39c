# Soak run (tests/soak/soak.py), included by the main Makefile from the repository root.
# Uses the Makefile's VENV, VPY and WASM and its `build` and `venv` targets.
#   make soak          SOAK_REQUESTS (default 100000) requests, SOAK_CONCURRENCY (default 32) at once
#   make soak-short    the CI form: 5000 requests
VENV             ?= .venv
VPY              ?= $(VENV)/bin/python
SOAK_REQUESTS    ?= 100000
SOAK_CONCURRENCY ?= 32
SOAK_SEED        ?= 20240601
SOAK_ARGS        ?=
SOAK_STAMP       := $(VENV)/.soak-installed

.PHONY: soak soak-short

# Extra Python packages for the soak run (none needed today; the file is installed if present).
$(SOAK_STAMP): $(VENV)/.installed $(wildcard tests/soak/requirements.txt)
	if [ -s tests/soak/requirements.txt ]; then $(VPY) -m pip install --disable-pip-version-check -q -r tests/soak/requirements.txt; fi
	touch $@

soak: build venv $(SOAK_STAMP)
	SOAK_REQUESTS=$(SOAK_REQUESTS) SOAK_CONCURRENCY=$(SOAK_CONCURRENCY) SOAK_SEED=$(SOAK_SEED) \
	  $(VPY) tests/soak/soak.py $(SOAK_ARGS)

soak-short: build venv $(SOAK_STAMP)
	SOAK_REQUESTS=5000 SOAK_CONCURRENCY=$(SOAK_CONCURRENCY) SOAK_SEED=$(SOAK_SEED) \
	  $(VPY) tests/soak/soak.py $(SOAK_ARGS)
