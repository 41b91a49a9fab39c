#!/usr/bin/env bash
# After a fuzzing run: fold what the fuzzer found (fuzz/target/corpus/<target>) into the small
# committed corpus (fuzz/corpus/<target>), as `make fuzz-refresh` does.
#
#   1. `cargo fuzz cmin` minimises the working corpus in place;
#   2. the committed seeds that add coverage are kept (libFuzzer -merge=1, into an empty dir);
#   3. a greedy set cover of the working corpus adds what the seeds do not cover
#      (-set_cover_merge=1);
#   4. the additions are capped, smallest first, at 60 files and 200 KiB per target in all.
#
# Usage: fuzz/refresh_corpus.sh [target...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")"

MAX_FILES=60
MAX_BYTES=$((200 * 1024))
CARGO=${FUZZ_CARGO:-cargo +nightly}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(xml_reader outbound_request inbound_push config)

$CARGO fuzz build
bin=target/x86_64-unknown-linux-gnu/release
for t in "${targets[@]}"; do
  work=target/corpus/$t
  mkdir -p "$work"
  nice -n 10 $CARGO fuzz cmin "$t" "$work" >"target/cmin-$t.log" 2>&1
  tmp=$(mktemp -d)
  mkdir "$tmp/seeds" "$tmp/found"
  nice -n 10 "$bin/$t" -merge=1 "$tmp/seeds" "corpus/$t" >"target/merge-$t.log" 2>&1
  # What the kept seeds cover, so that the set cover only adds the rest.
  cp "$tmp/seeds"/* "$tmp/found"/ 2>/dev/null || true
  nice -n 10 "$bin/$t" -set_cover_merge=1 "$tmp/found" "$work" >>"target/merge-$t.log" 2>&1
  for f in "$tmp/seeds"/*; do rm -f "$tmp/found/$(basename "$f")"; done

  rm -rf "corpus/$t"
  mkdir -p "corpus/$t"
  cp "$tmp/seeds"/* "corpus/$t"/
  files=$(find "corpus/$t" -type f | wc -l)
  bytes=$(du -cb "corpus/$t"/* | tail -n 1 | cut -f1)
  added=0
  while read -r size f; do
    [ -n "$f" ] || continue
    if [ "$files" -ge "$MAX_FILES" ] || [ $((bytes + size)) -gt "$MAX_BYTES" ]; then break; fi
    cp "$f" "corpus/$t/found-$(basename "$f" | cut -c1-16)"
    files=$((files + 1)); bytes=$((bytes + size)); added=$((added + 1))
  done < <(find "$tmp/found" -type f -printf '%s %p\n' | sort -n)
  echo "$t: $(ls "$tmp/seeds" | wc -l) seeds kept, $added found inputs added, $files files, $bytes bytes"
  rm -rf "$tmp"
done
