# Fuzzing (docs/robustness.md, "Fuzzing"). Included by the top-level Makefile:
#
#   include fuzz/fuzz.mk
#
#   make fuzz                          every target for FUZZ_SECONDS (default 60) each, one after the other
#   make fuzz FUZZ_SECONDS=300         longer
#   make fuzz FUZZ_TARGETS=xml_reader  only some targets
#   make fuzz-cmin                     minimise the working corpora (fuzz/target/corpus, not committed)
#   make fuzz-seed                     rewrite the committed seed corpora (fuzz/seed_corpus.py)
#   make fuzz-refresh                  after a run: fold the minimised findings into fuzz/corpus
#                                      (fuzz/refresh_corpus.sh; <= 60 files, <= 200 KiB a target)
#
# Each target reads its committed seeds (fuzz/corpus/<target>, never written to) and
# keeps what it finds in fuzz/target/corpus/<target> (ignored by git, reused next run).
# One job at a time: the machines have 2 cores. A crash stops the run with a non-zero
# status; the input is left in fuzz/artifacts/<target>/ and the log in fuzz/target/logs/.

FUZZ_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= xml_reader outbound_request inbound_push config
FUZZ_RSS_MB ?= 2048
FUZZ_NICE ?= nice -n 10
# Inputs larger than this are not generated (bytes); the config target gets smaller ones.
FUZZ_MAX_LEN ?= 65536
FUZZ_MAX_LEN_config ?= 16384
FUZZ_CARGO ?= cargo +nightly

.PHONY: fuzz fuzz-tools fuzz-build fuzz-cmin fuzz-seed fuzz-refresh

fuzz-tools:
	@$(FUZZ_CARGO) fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal

fuzz-build: fuzz-tools
	cd $(FUZZ_DIR) && $(FUZZ_CARGO) fuzz build

fuzz: fuzz-build
	@set -e; cd $(FUZZ_DIR); mkdir -p target/logs; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p target/corpus/$$t; \
	  len=$(FUZZ_MAX_LEN); [ "$$t" = config ] && len=$(FUZZ_MAX_LEN_config); \
	  echo "== fuzz $$t for $(FUZZ_SECONDS)s (max_len $$len)"; \
	  $(FUZZ_NICE) $(FUZZ_CARGO) fuzz run $$t target/corpus/$$t corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=$(FUZZ_RSS_MB) -max_len=$$len \
	    -timeout=30 -print_final_stats=1 > target/logs/$$t.log 2>&1 \
	    || { tail -n 40 target/logs/$$t.log; echo "fuzz $$t FAILED (see $(FUZZ_DIR)/target/logs/$$t.log)"; exit 1; }; \
	done; \
	echo "== executions"; \
	for t in $(FUZZ_TARGETS); do \
	  printf '%-18s %s\n' "$$t" "$$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second\(s\)' target/logs/$$t.log | tail -n 1)"; \
	done

fuzz-cmin: fuzz-build
	@set -e; cd $(FUZZ_DIR); for t in $(FUZZ_TARGETS); do \
	  mkdir -p target/corpus/$$t; $(FUZZ_NICE) $(FUZZ_CARGO) fuzz cmin $$t target/corpus/$$t; \
	done

fuzz-seed:
	python3 $(FUZZ_DIR)/seed_corpus.py

fuzz-refresh: fuzz-tools
	$(FUZZ_DIR)/refresh_corpus.sh $(FUZZ_TARGETS)
