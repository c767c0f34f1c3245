#!/usr/bin/env bash
# Webhook delivery speed: records/s from the output topic to a loopback
# receiver, one record per request and batched, beside a plain libcurl
# multi client posting the same bodies to the same receiver in the same
# run (the ceiling for any HTTP sender on this machine).
#
#   tests/bench/webhook_bench.sh [BUILD_DIR]     (default: build)
#
# Env: BYLINE_TEST_BROKERS (else a broker is started with
# tests/kafka/broker.sh), BENCH_RECORDS (20000), BENCH_CONCURRENCY (8),
# BENCH_BATCH (20), BENCH_RECORD_BYTES (3500). Every wait is bounded.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
N=${BENCH_RECORDS:-20000}
C=${BENCH_CONCURRENCY:-8}
BATCH=${BENCH_BATCH:-20}
BYTES=${BENCH_RECORD_BYTES:-3500}
runner="$build/tests/bl_webhook_run"
tool="$build/tests/bl_kafkatool"
[[ -x "$runner" && -x "$tool" ]] || { echo "webhook_bench: build first (missing $runner or $tool)" >&2; exit 1; }
command -v kcat >/dev/null || { echo "webhook_bench: kcat is needed" >&2; exit 1; }

work=$(mktemp -d /tmp/byline-whbench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n "${own_broker:-}" ]] && bash "$root/tests/kafka/broker.sh" stop "$work" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cc -O2 "$root/tests/bench/bl_webhook_bench.c" $(pkg-config --cflags --libs libcurl libmicrohttpd) -lpthread -o "$work/bl_webhook_bench"
if [[ -z "${BYLINE_TEST_BROKERS:-}" ]]; then
  own_broker=1
  BYLINE_TEST_BROKERS=$(BYLINE_TOOLS_DIR="$build/tests" bash "$root/tests/kafka/broker.sh" start "$work")
fi
B=$BYLINE_TEST_BROKERS
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$work/bl_webhook_bench" serve "$port" 2>/dev/null &
pids+=($!)
url="http://127.0.0.1:$port/hook"
for _ in $(seq 1 50); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done

# records in the output-record shape, each carrying the "bench":1 marker
python3 - "$N" "$BYTES" >"$work/records.tsv" <<'EOF'
import json, sys
n, size = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    r = {"schema": "byline.article.v1", "id": "bench-%06d" % i, "bench": 1,
         "published": {"date": "2022-01-10"}, "source": {"agencies": ["Reuters"]},
         "entities": [{"name": "Vladimir Putin", "type": "PERSON"}], "text": ""}
    r["text"] = "x" * max(0, size - len(json.dumps(r)))
    print("%s\t%s" % (r["id"], json.dumps(r, separators=(",", ":"))))
EOF
cut -f2 "$work/records.tsv" >"$work/bodies.jsonl"
topic="bench.webhook.$$.$(date +%s)"
"$tool" create-topic -b "$B" -t "$topic" -p 4 >/dev/null
kcat -b "$B" -t "$topic" -P -K $'\t' -l "$work/records.tsv"

stats() { curl -sf "http://127.0.0.1:$port/_stats"; } # requests records first_us last_us
reset() { curl -sf -X POST -o /dev/null "http://127.0.0.1:$port/_reset"; }

# byline: from the first request the receiver sees to the N-th record
run_byline() { # batch
  reset
  env -i PATH="$PATH" BYLINE_BROKERS="$B" BYLINE_GROUP_ID="bench-$$-$1-$RANDOM" BYLINE_OUTPUT_TOPIC="$topic" \
    BYLINE_WEBHOOK_DLQ_TOPIC="$topic.dlq" BYLINE_LOG_LEVEL=warn \
    BYLINE_WEBHOOK_BENCH_URL="$url" BYLINE_WEBHOOK_BENCH_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" \
    BYLINE_WEBHOOK_BENCH_CONCURRENCY="$C" BYLINE_WEBHOOK_BENCH_BATCH_SIZE="$1" \
    BYLINE_WEBHOOK_BENCH_MAX_PENDING=$((C * $1 * 50 > 1000 ? C * $1 * 50 : 1000)) \
    "$runner" 2>"$work/runner.$1.log" &
  local pid=$! deadline=$((SECONDS + 300))
  local rss=0 r
  while ((SECONDS < deadline)); do
    read -r _ recs _ _ < <(stats)
    r=$(awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    ((r > rss)) && rss=$r
    ((recs >= N)) && break
    sleep 0.05
  done
  kill -TERM "$pid"; wait "$pid" || true
  read -r reqs recs first last < <(stats)
  ((recs >= N)) || { echo "webhook_bench: byline delivered $recs of $N in time" >&2; exit 1; }
  awk -v n="$recs" -v q="$reqs" -v f="$first" -v l="$last" -v rss="$rss" -v b="$1" \
    'BEGIN { s = (l - f) / 1e6; printf "byline     batch=%-3d %7d records %6d requests %7.2f s %8.0f records/s  peak RSS %d MB\n", b, n, q, s, n / s, rss / 1024 }'
  echo "$recs $first $last" >"$work/byline.$1"
}
run_reference() { # batch
  reset
  "$work/bl_webhook_bench" post "$url" "$work/bodies.jsonl" "$C" "$1" >/dev/null
  read -r reqs recs first last < <(stats)
  awk -v n="$recs" -v q="$reqs" -v f="$first" -v l="$last" -v b="$1" \
    'BEGIN { s = (l - f) / 1e6; printf "libcurl    batch=%-3d %7d records %6d requests %7.2f s %8.0f records/s\n", b, n, q, s, n / s }'
  echo "$recs $first $last" >"$work/ref.$1"
}
rate() { awk '{ print $1 / (($3 - $2) / 1e6) }' "$1"; }

echo "webhook_bench: $N records of ~$BYTES bytes, concurrency $C, receiver libmicrohttpd on loopback, $(nproc) cores"
for batch in 1 "$BATCH"; do
  run_reference "$batch"
  run_byline "$batch"
  awk -v a="$(rate "$work/byline.$batch")" -v b="$(rate "$work/ref.$batch")" -v bt="$batch" \
    'BEGIN { printf "ratio      batch=%-3d byline / plain libcurl = %.2f\n", bt, a / b }'
done
