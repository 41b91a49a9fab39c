# sita-sm-filter — build, test and demo entry points.
#   make build      release Wasm module -> dist/sita_sm_filter.wasm
#   make test       test-native + test-wasm + test-e2e + soak-short (+ fuzz-short once present)
#   make soak       the 100,000-request soak; make bench: filter vs bare Envoy; make fuzz: every fuzz target
#   make run        both demo upstreams + both Envoys (outbound :10000, inbound :10001), Ctrl-C stops
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

CARGO   ?= cargo
PYTHON  ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
WASM    := dist/sita_sm_filter.wasm
WASM_SRC := target/wasm32-wasip1/release/sita_sm_filter.wasm
PYTEST_ARGS ?=
# cargo-installed tools (wasm-bindgen-test-runner) even when ~/.cargo/bin is not on PATH
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: build test test-native test-wasm test-e2e run venv validate-envoy clean

# cargo decides what to rebuild; the copy only happens when the module changed.
build:
	$(CARGO) build --release --target wasm32-wasip1 --lib
	@mkdir -p dist
	@cmp -s $(WASM_SRC) $(WASM) || { cp $(WASM_SRC) $(WASM) && echo "updated $(WASM)"; }

venv: $(VENV)/.installed
$(VENV)/.installed: tests/requirements.txt
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --disable-pip-version-check -q -r tests/requirements.txt
	touch $@

# Every suite runs even when an earlier one failed (make -k semantics for CI); the target fails
# if any did.
TEST_SUITES := test-native test-wasm test-e2e soak-short $(if $(wildcard fuzz/fuzz.mk),fuzz-short)
test:
	@failed=(); for suite in $(TEST_SUITES); do \
	  printf '\n==> make %s\n' "$$suite"; \
	  $(MAKE) --no-print-directory $$suite || failed+=("$$suite"); \
	done; \
	echo; if (( $${#failed[@]} )); then echo "FAILED suites: $${failed[*]}"; exit 1; fi; \
	echo "all suites passed: $(TEST_SUITES)"

test-native:
	$(CARGO) test
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) fmt --check

# The core's unit tests again, compiled to wasm32 and run under Node by wasm-bindgen-test-runner.
test-wasm:
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	  $(CARGO) test --target wasm32-unknown-unknown --no-default-features --lib

test-e2e: build venv
	$(VENV)/bin/pytest tests/e2e -v $(PYTEST_ARGS)

validate-envoy: build venv
	for f in envoy/*.yaml; do $(VENV)/bin/envoy --mode validate -c $$f --use-dynamic-base-id --log-level warn; done

run: build venv
	$(VPY) tests/support/demo.py

clean:
	rm -rf dist $(VENV) .pytest_cache

include tests/soak/soak.mk tests/bench/bench.mk
-include fuzz/fuzz.mk

# CI's form of the fuzzing: every target for 60 s.
.PHONY: fuzz-short
fuzz-short:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=60
