#!/usr/bin/env bash
# Byte-identity check for optimisation work: writes the records of the
# bench corpus, the MEANTIME dev set and the samples with the current tree,
# and compares them with a reference written earlier (by the same script).
#
#   tests/bench/same_records.sh save DIR    # reference, before the change
#   tests/bench/same_records.sh check DIR   # after: exit 1 on any difference
#
# Environment: BUILD_DIR (default build-bench), SHARED_DIR (../shared).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
mode=${1:?save or check}
dir=${2:?directory}
build=${BUILD_DIR:-build-bench}
shared=${SHARED_DIR:-$root/../shared}
case $mode in save) out=$dir ;; check) out=$(mktemp -d) ;; *) echo "save or check" >&2; exit 2 ;; esac
mkdir -p "$out"
BUILD_DIR=$build tests/bench/enrich_bench.sh -o "$out/bench.jsonl" >/dev/null
cmake --build "$build" -j2 --target byline >/dev/null
"$build/byline" enrich "$shared"/data/meantime-dev/*.txt >"$out/meantime.jsonl" 2>/dev/null
"$build/byline" enrich "$shared"/samples/*.txt >"$out/samples.jsonl" 2>/dev/null
[ "$mode" = save ] && { wc -l "$out"/*.jsonl; exit 0; }
status=0
for f in bench meantime samples; do
    if cmp -s "$dir/$f.jsonl" "$out/$f.jsonl"; then
        echo "same      $f ($(wc -l <"$out/$f.jsonl") records)"
    else
        echo "DIFFERENT $f: first differing record:"
        diff "$dir/$f.jsonl" "$out/$f.jsonl" | head -4 | cut -c1-400
        status=1
    fi
done
rm -rf "$out"
exit $status
