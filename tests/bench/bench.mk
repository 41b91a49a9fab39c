# Benchmark (tests/bench/bench.py): the shipped bootstrap with the filter vs without it (bare
# Envoy), same run, same upstream. Included by the main Makefile from the repository root; uses
# its VENV and VPY and its `build` and `venv` targets. Never fails on timing.
#   make bench         full request counts (a few minutes on 2 cores)
#   make bench-short   BENCH_SCALE=0.05 (CI: checks the setup and prints a table in ~1 minute)
VENV              ?= .venv
VPY               ?= $(VENV)/bin/python
BENCH_SCALE       ?= 1
BENCH_CONCURRENCY ?= 16

.PHONY: bench bench-short

bench: build venv
	BENCH_SCALE=$(BENCH_SCALE) BENCH_CONCURRENCY=$(BENCH_CONCURRENCY) $(VPY) tests/bench/bench.py

bench-short: build venv
	BENCH_SCALE=0.05 BENCH_CONCURRENCY=$(BENCH_CONCURRENCY) $(VPY) tests/bench/bench.py
