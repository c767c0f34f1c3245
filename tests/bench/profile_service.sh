#!/usr/bin/env bash
# Instruction profile of the running service (not part of ctest): byline
# under callgrind consumes COUNT generated articles from a real local broker
# and writes their records, then stops on SIGTERM. Instruction counts do not
# depend on how busy the machine is, so before/after figures compare.
#
#   tests/bench/profile_service.sh            # prints instructions per article by area
#
# Environment: BUILD_DIR (build-bench), COUNT (2000), SEED, SHARED_DIR
# (../shared), BYLINE_TEST_BROKERS (use this broker instead of starting one),
# OUT (callgrind file; default $BUILD_DIR/bench/service.callgrind).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${BUILD_DIR:-build-bench}
count=${COUNT:-2000}
seed=${SEED:-20240601}
shared=${SHARED_DIR:-$root/../shared}
out=${OUT:-$build/bench/service.callgrind}
command -v valgrind >/dev/null || { echo "profile_service: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target byline bl_loadgen bl_kafkatool >/dev/null
tools="$build/tests"
mkdir -p "$build/bench"
pool="$build/bench/pool-3000-$seed.bin"
if [ ! -s "$pool" ]; then
    python3 tests/bench/gen_articles.py --shared "$shared" --config config --count 3000 \
        --seed "$seed" --out "$pool" >&2
fi

work=$(mktemp -d /tmp/byline-profile.XXXXXX)
byline_pid=
cleanup() {
    [ -n "$byline_pid" ] && kill -KILL "$byline_pid" 2>/dev/null
    [ -z "${BYLINE_TEST_BROKERS:-}" ] && bash tests/kafka/broker.sh stop "$work/broker" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${BYLINE_TEST_BROKERS:-}" ]; then
    brokers=$BYLINE_TEST_BROKERS
else
    brokers=$(BYLINE_TOOLS_DIR="$root/$tools" bash tests/kafka/broker.sh start "$work/broker")
fi

run=prof-$$-$(date +%s)
for t in in out dlq; do "$tools/bl_kafkatool" create-topic -b "$brokers" -t "$run.$t" -p 4 >/dev/null; done
"$tools/bl_loadgen" bulk -b "$brokers" -t "$run.in" -n "$count" --seed "$seed" \
    "$pool" "$shared"/data/meantime-dev/*.txt "$shared"/samples/*.txt | head -n1 >&2

env BYLINE_BROKERS="$brokers" BYLINE_INPUT_TOPIC="$run.in" BYLINE_OUTPUT_TOPIC="$run.out" \
    BYLINE_DLQ_TOPIC="$run.dlq" BYLINE_GROUP_ID="$run" BYLINE_LOG_LEVEL=warn \
    valgrind --tool=callgrind --callgrind-out-file="$out" "$build/byline" \
    >"$work/byline.out" 2>"$work/byline.err" &
byline_pid=$!
deadline=$((SECONDS + 600))
until [ "$("$tools/bl_kafkatool" count -b "$brokers" -t "$run.out" 2>/dev/null || echo 0)" -ge "$count" ]; do
    if ! kill -0 "$byline_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        echo "profile_service: byline did not write $count records (log: $work/byline.err)" >&2
        tail -5 "$work/byline.err" >&2
        exit 1
    fi
    sleep 2
done
kill -TERM "$byline_pid"
wait "$byline_pid" || { echo "profile_service: byline exited non-zero after SIGTERM" >&2; exit 1; }
byline_pid=

echo "commit     $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- internal cmd || echo ' + uncommitted changes')"
echo "articles   $count (callgrind output: $out)"
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | awk -v n="$count" '
    function put(label, ir) { if (!(label in seen)) { seen[label] = 1; printf "  %-44s %9.0f\n", label, ir / n } }
    /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
    / ./ && $1 ~ /^[0-9,]+$/ {
        ir = $1; gsub(",", "", ir)
        if ($0 ~ /:process \[/) put("process (one message, worker thread)", ir)
        else if ($0 ~ /:bl_enricher_run \[/) put("  bl_enricher_run (enrichment, builds record)", ir)
        else if ($0 ~ /:json_dumpb \[/) put("  json_dumpb (serialise the record)", ir)
        else if ($0 ~ /:bl_article_decode \[/) put("  bl_article_decode", ir)
        else if ($0 ~ /:json_delete/ && !("free" in seen)) { seen["free"] = 1; put("  json_delete (free the record)", ir) }
        else if ($0 ~ /:bl_enricher_new \[/) put("start-up: bl_enricher_new (once, not per article)", ir)
    }
    END { printf "  %-44s %9.0f\n", "all threads, everything", total / n }'
echo "(instructions per article; the rest is librdkafka, lz4, the consumer thread and start-up)"
