#!/usr/bin/env bash
# Enrichment benchmark (no Kafka): builds Release, generates the corpus once
# (10,000 varied 3-5 KB articles, cached in the build dir), runs
# bl_enrich_bench on one thread and prints the figures. Not part of ctest.
#
#   tests/bench/enrich_bench.sh [bl_enrich_bench options, e.g. -r 7]
#   tests/bench/enrich_bench.sh -o FILE   # write the records (JSONL) instead
#
# Environment: BUILD_DIR (default build-bench), COUNT (10000), SEED,
# SHARED_DIR (../shared), CALLGRIND=N to run N articles under callgrind
# instead and print the functions with the most instructions.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${BUILD_DIR:-build-bench}
count=${COUNT:-10000}
seed=${SEED:-20240601}
shared=${SHARED_DIR:-$root/../shared}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target bl_enrich_bench >/dev/null
bench="$build/tests/bench/bl_enrich_bench"

gen_version=$(sha1sum tests/bench/gen_articles.py | cut -c1-8)
corpus="$build/bench/articles-$count-$seed-$gen_version.bin"
if [ ! -s "$corpus" ]; then
    mkdir -p "$build/bench"
    python3 tests/bench/gen_articles.py --shared "$shared" --config config \
        --count "$count" --seed "$seed" --out "$corpus"
fi

echo "machine    $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "commit     $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- internal || echo ' + uncommitted changes in internal/')"

if [ -n "${CALLGRIND:-}" ]; then
    out="$build/bench/callgrind.out"
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        --toggle-collect=bench_enrich_round "$bench" -c config -i "$corpus" \
        -n "$CALLGRIND" -r 1 -S "$@" >/dev/null
    echo "callgrind  $CALLGRIND articles enriched twice (warm-up + 1 round): divide by $((2 * CALLGRIND)) for per-article figures"
    callgrind_annotate --inclusive=yes "$out" | sed -n '1,/^-- Auto/p' | head -60
    callgrind_annotate "$out" | sed -n '/^Ir/,$p' | head -40
    exit 0
fi
exec "$bench" -c config -i "$corpus" "$@"
