#!/usr/bin/env bash
# End-to-end benchmark against a real local broker (not part of ctest):
# byline beside a pass-through copier (tests/tools/bl_copier.c: byline's
# client settings, no enrichment) measured in the same run, same broker.
#
#   tests/bench/e2e_bench.sh
#
# 1. ceiling: bl_copier copies COUNT articles input -> copy topic
# 2. byline (fresh group) over the same COUNT input messages -> output topic
# 3. latency at RATE articles/s for DURATION_S s through byline and the copier
# 4. byline's peak RSS (VmHWM) and CPU seconds, the broker's CPU seconds
# 5. scaling: 1 and 2 processes x 1, 4 and 12 partitions (SCALE_COUNT each)
#
# Environment: BUILD_DIR (build-e2e), COUNT (200000), SCALE_COUNT (50000),
# PARTITIONS (4, for 1-3), RATE (1000), DURATION_S (30), SEED,
# PHASES ("throughput latency scaling"), SCALE_PARTITIONS ("1 4 12"),
# BENCH_KAFKA ("name=value ..." librdkafka properties given to byline as
# BYLINE_KAFKA_* and to the copier as -X: both clients), BYLINE_KAFKA_HEAP
# (broker heap, default -Xmx768m -Xms256m), SHARED_DIR (../shared),
# KEEP=1 keeps the broker directory. Results: stdout and
# $BUILD_DIR/bench/e2e-<time>.txt.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${BUILD_DIR:-build-e2e}
count=${COUNT:-200000}
scale_count=${SCALE_COUNT:-50000}
partitions=${PARTITIONS:-4}
rate=${RATE:-1000}
duration_s=${DURATION_S:-30}
seed=${SEED:-20240601}
phases=${PHASES:-throughput latency scaling}
scale_partitions=${SCALE_PARTITIONS:-1 4 12}
shared=${SHARED_DIR:-$root/../shared}
bench_kafka=${BENCH_KAFKA:-}
# The broker's heap; not exported: byline would read it as a librdkafka property.
broker_heap=${BYLINE_KAFKA_HEAP:--Xmx768m -Xms256m}
unset BYLINE_KAFKA_HEAP

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target byline bl_copier bl_loadgen bl_latency bl_kafkatool >/dev/null
tools="$build/tests"
mkdir -p "$build/bench"
results="$build/bench/e2e-$(date +%Y%m%d-%H%M%S).txt"
work=$(mktemp -d /tmp/byline-e2e.XXXXXX)
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    bash tests/kafka/broker.sh stop "$work/broker" >/dev/null 2>&1 || true
    if [ -z "${KEEP:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

say() { echo "$*" | tee -a "$results"; }
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1" | head -n1; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
hwm_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
mbs() { awk -v r="$1" -v s="$2" 'BEGIN {printf "%.1f", r * s / 1e6}'; }

# Corpus: a pool of templated, varied articles (gen_articles.py, cached),
# recombined by bl_loadgen into COUNT distinct articles.
pool="$build/bench/pool-3000-$seed.bin"
if [ ! -s "$pool" ]; then
    python3 tests/bench/gen_articles.py --shared "$shared" --config config --count 3000 \
        --seed "$seed" --out "$pool" >&2
fi
sources=("$pool" "$shared"/data/meantime-dev/*.txt "$shared"/samples/*.txt)

brokers=$(BYLINE_KAFKA_HEAP="$broker_heap" BYLINE_TOOLS_DIR="$root/$tools" bash tests/kafka/broker.sh start "$work/broker")
broker_pid=$(cat "$work/broker/broker.pid")

# librdkafka overrides for both byline and the copier.
byline_kafka_env=()
copier_kafka_args=()
for prop in $bench_kafka; do
    name=${prop%%=*}
    byline_kafka_env+=("BYLINE_KAFKA_$(tr 'a-z.' 'A-Z_' <<<"$name")=${prop#*=}")
    copier_kafka_args+=(-X "$prop")
done

say "== byline end-to-end benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine    $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "commit     $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- internal cmd || echo ' + uncommitted changes in internal/ or cmd/')"
say "librdkafka $(pkg-config --modversion rdkafka); broker $(ls "$HOME"/.cache/byline 2>/dev/null | grep -m1 kafka-) at $brokers, heap '$broker_heap'"
say "settings   COUNT=$count PARTITIONS=$partitions RATE=$rate DURATION_S=$duration_s SCALE_COUNT=$scale_count BENCH_KAFKA='$bench_kafka'"

topic() { "$tools/bl_kafkatool" create-topic -b "$brokers" -t "$1" -p "$2" >/dev/null; }

# load TOPIC N SEED: produce N generated articles; prints their bytes.
load() {
    local out
    out=$("$tools/bl_loadgen" bulk -b "$brokers" -t "$1" -n "$2" --seed "$3" "${sources[@]}")
    echo "$out" | head -n1 >&2
    kv " $(grep '^BULK' <<<"$out")" bytes
}

# wait_watch WATCH_PID PID...: until the watcher ends, or every PID has.
wait_watch() {
    local wpid=$1 alive p
    shift
    while kill -0 "$wpid" 2>/dev/null; do
        alive=0
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        if [ "$alive" = 0 ]; then
            echo "e2e_bench: every measured process ended before the output was complete" >&2
            kill -TERM "$wpid" 2>/dev/null || true
        fi
        sleep 0.2
    done
    wait "$wpid" || true
}

# stop PID...: SIGTERM, then up to 30 s for a clean stop; SIGKILL after that.
stop() {
    local p i alive
    for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
    for ((i = 0; i < 300; i++)); do
        alive=0
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for p in "$@"; do
        if kill -0 "$p" 2>/dev/null; then
            echo "e2e_bench: process $p did not stop within 30 s of SIGTERM; killing it" >&2
            kill -KILL "$p" 2>/dev/null || true
        fi
        wait "$p" 2>/dev/null || true
    done
}

wait_for_log() { # FILE PATTERN TIMEOUT_S
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "e2e_bench: no '$2' in $1 after $3 s" >&2
    return 1
}

# run_copier IN OUT N PROCS LABEL: prints "rate cpu_s broker_cpu_s".
run_copier() {
    local in=$1 out=$2 n=$3 procs=$4 label=$5 watch_out b0 b1 cpu=0 i
    local -a cp=()
    "$tools/bl_latency" watch -b "$brokers" -t "$out" --expect "$n" --timeout-ms $((n / 100 * 1000 + 180000)) \
        >"$work/watch-$label.txt" </dev/null &
    local wpid=$!
    b0=$(cpu_s "$broker_pid")
    for ((i = 0; i < procs; i++)); do
        "$tools/bl_copier" -b "$brokers" -i "$in" -o "$out" -g "copier-$label" "${copier_kafka_args[@]}" \
            >"$work/copier-$label-$i.out" 2>"$work/copier-$label-$i.err" &
        cp+=($!)
        pids+=($!)
    done
    wait_watch "$wpid" "${cp[@]}"
    b1=$(cpu_s "$broker_pid")
    for i in "${cp[@]}"; do
        cpu=$(awk -v a="$cpu" -v b="$(cpu_s "$i")" 'BEGIN {printf "%.2f", a + b}')
    done
    stop "${cp[@]}"
    watch_out=$(grep '^WATCH' "$work/watch-$label.txt")
    echo "$(kv " $watch_out" rate_10_to_90) $(kv " $watch_out" rate_first_to_done) $cpu $(awk -v a="$b0" -v b="$b1" 'BEGIN {printf "%.2f", b - a}') $(kv " $watch_out" done_s)"
}

# run_byline IN OUT N PROCS LABEL: prints "rate10_90 rate_all cpu_s broker_cpu_s done_s hwm_mb".
run_byline() {
    local in=$1 out=$2 n=$3 procs=$4 label=$5 watch_out b0 b1 cpu=0 hwm=0 i
    local -a bp=()
    topic "dlq-$label" 1
    "$tools/bl_latency" watch -b "$brokers" -t "$out" --expect "$n" --timeout-ms $((n / 100 * 1000 + 180000)) \
        >"$work/watch-$label.txt" </dev/null &
    local wpid=$!
    b0=$(cpu_s "$broker_pid")
    for ((i = 0; i < procs; i++)); do
        env "${byline_kafka_env[@]}" BYLINE_BROKERS="$brokers" BYLINE_INPUT_TOPIC="$in" \
            BYLINE_OUTPUT_TOPIC="$out" BYLINE_DLQ_TOPIC="dlq-$label" BYLINE_GROUP_ID="byline-$label" \
            BYLINE_KAFKA_AUTO_OFFSET_RESET=earliest "$build/byline" \
            >"$work/byline-$label-$i.out" 2>"$work/byline-$label-$i.err" &
        bp+=($!)
        pids+=($!)
    done
    wait_watch "$wpid" "${bp[@]}"
    b1=$(cpu_s "$broker_pid")
    for i in "${bp[@]}"; do
        cpu=$(awk -v a="$cpu" -v b="$(cpu_s "$i")" 'BEGIN {printf "%.2f", a + b}')
        hwm=$(awk -v a="$hwm" -v b="$(hwm_mb "$i")" 'BEGIN {printf "%.1f", (a > b ? a : b)}')
    done
    stop "${bp[@]}"
    local dlq
    dlq=$("$tools/bl_kafkatool" count -b "$brokers" -t "dlq-$label") || dlq="unknown"
    [ "$dlq" = 0 ] || echo "e2e_bench: $dlq dead letters in run $label" >&2
    watch_out=$(grep '^WATCH' "$work/watch-$label.txt")
    echo "$(kv " $watch_out" rate_10_to_90) $(kv " $watch_out" rate_first_to_done) $cpu $(awk -v a="$b0" -v b="$b1" 'BEGIN {printf "%.2f", b - a}') $(kv " $watch_out" done_s) $hwm"
}

if [[ " $phases " == *" throughput "* ]]; then
    topic in-main "$partitions"
    topic copy-main "$partitions"
    topic out-main "$partitions"
    bytes=$(load in-main "$count" "$seed")
    avg=$((bytes / count))
    say ""
    say "-- throughput: $count articles ($(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1e6}') MB, mean $avg B), $partitions partitions, 1 process"
    read -r c_rate c_all c_cpu c_bcpu c_done < <(run_copier in-main copy-main "$count" 1 main)
    say "ceiling (bl_copier)  $c_rate articles/s ($(mbs "$c_rate" "$avg") MB/s in) [10-90%]; $c_all/s first-to-last; copier CPU ${c_cpu} s, broker CPU ${c_bcpu} s"
    read -r b_rate b_all b_cpu b_bcpu b_done b_hwm < <(run_byline in-main out-main "$count" 1 main)
    say "byline               $b_rate articles/s ($(mbs "$b_rate" "$avg") MB/s in) [10-90%] = $(ratio "$b_rate" "$c_rate") of ceiling; $b_all/s first-to-last = $(ratio "$b_all" "$c_all"); byline CPU ${b_cpu} s ($(awk -v n="$count" -v c="$b_cpu" 'BEGIN {printf "%.0f", (c > 0 ? n / c : 0)}') articles per CPU-second), broker CPU ${b_bcpu} s"
    say "byline peak RSS      ${b_hwm} MB (VmHWM, default gazetteer)"
fi

# latency_run KIND: paced load into a fresh topic pair through byline or the copier.
latency_run() {
    local kind=$1 n=$((rate * duration_s)) proc out
    topic "lat-in-$kind" "$partitions"
    topic "lat-out-$kind" "$partitions"
    topic "dlq-lat-$kind" 1
    if [ "$kind" = byline ]; then
        env "${byline_kafka_env[@]}" BYLINE_BROKERS="$brokers" BYLINE_INPUT_TOPIC="lat-in-$kind" \
            BYLINE_OUTPUT_TOPIC="lat-out-$kind" BYLINE_DLQ_TOPIC="dlq-lat-$kind" \
            BYLINE_GROUP_ID="byline-lat" BYLINE_KAFKA_AUTO_OFFSET_RESET=earliest \
            "$build/byline" >/dev/null 2>"$work/lat-$kind.err" &
        proc=$!
        pids+=($proc)
        wait_for_log "$work/lat-$kind.err" '"assigned' 60
    else
        "$tools/bl_copier" -b "$brokers" -i "lat-in-$kind" -o "lat-out-$kind" -g copier-lat \
            "${copier_kafka_args[@]}" >/dev/null 2>"$work/lat-$kind.err" &
        proc=$!
        pids+=($proc)
        wait_for_log "$work/lat-$kind.err" 'assigned' 60
    fi
    "$tools/bl_latency" latency -b "$brokers" -t "lat-out-$kind" --expect "$n" --skip "$rate" \
        --timeout-ms $(((duration_s + 60) * 1000)) >"$work/lat-$kind.txt" &
    local lpid=$!
    wait_for_log "$work/lat-$kind.txt" reading 30
    sleep 1
    "$tools/bl_loadgen" paced -b "$brokers" -t "lat-in-$kind" --rate "$rate" --duration-s "$duration_s" \
        --seed $((seed + 7)) "${sources[@]}" | head -n1 >&2
    wait "$lpid" || true
    local hwm
    hwm=$(hwm_mb "$proc")
    stop "$proc"
    out=$(cat "$work/lat-$kind.txt")
    local all warm
    all=$(grep 'set=all' <<<"$out")
    warm=$(grep 'set=after_warmup' <<<"$out")
    echo "$(kv " $all" p50_ms) $(kv " $all" p99_ms) $(kv " $warm" p50_ms) $(kv " $warm" p99_ms) $(kv " $warm" p999_ms) $(kv " $warm" max_ms) $(kv " $(grep received= <<<"$out")" received) $hwm"
}

if [[ " $phases " == *" latency "* ]]; then
    say ""
    say "-- latency: $rate articles/s offered for $duration_s s, $partitions partitions; send stamp -> arrival at a consumer of the output topic (p50/p99 over all; warm = after the first second)"
    read -r cp50 cp99 cw50 cw99 cw999 cwmax crecv _ < <(latency_run copier)
    say "ceiling (bl_copier)  p50 ${cw50} ms, p99 ${cw99} ms, p99.9 ${cw999} ms, max ${cwmax} ms (warm); all: p50 ${cp50} p99 ${cp99} ms; received $crecv"
    read -r bp50 bp99 bw50 bw99 bw999 bwmax brecv bhwm < <(latency_run byline)
    say "byline               p50 ${bw50} ms, p99 ${bw99} ms, p99.9 ${bw999} ms, max ${bwmax} ms (warm); all: p50 ${bp50} p99 ${bp99} ms; received $brecv; peak RSS ${bhwm} MB"
    say "byline - ceiling     p50 +$(awk -v a="$bw50" -v b="$cw50" 'BEGIN {printf "%.2f", a - b}') ms, p99 +$(awk -v a="$bw99" -v b="$cw99" 'BEGIN {printf "%.2f", a - b}') ms"
fi

if [[ " $phases " == *" scaling "* ]]; then
    say ""
    say "-- scaling: $scale_count articles per run (fresh groups), rates over 10-90% of the output; ratio = byline / copier with as many processes"
    say "partitions procs  copier/s   byline/s  ratio  byline CPU s  broker CPU s (byline run)"
    for p in $scale_partitions; do
        topic "in-p$p" "$p"
        load "in-p$p" "$scale_count" $((seed + p)) >/dev/null
        for procs in 1 2; do
            topic "copy-p$p-$procs" "$p"
            topic "out-p$p-$procs" "$p"
            read -r c_rate _ < <(run_copier "in-p$p" "copy-p$p-$procs" "$scale_count" "$procs" "p$p-$procs")
            read -r b_rate _ b_cpu b_bcpu _ < <(run_byline "in-p$p" "out-p$p-$procs" "$scale_count" "$procs" "p$p-$procs")
            say "$(printf '%10s %5s %9s %10s %6s %13s %13s' "$p" "$procs" "$c_rate" "$b_rate" "$(ratio "$b_rate" "$c_rate")" "$b_cpu" "$b_bcpu")"
        done
    done
fi

say ""
say "broker data $(du -sh "$work/broker/data" | cut -f1); results in $results"
