#!/usr/bin/env bash
# Webhook responses, one endpoint per behaviour, all in one engine run
# (tests/tools/bl_webhook_run: the webhook engine alone, reading records
# produced straight into the output topic). Each endpoint has its own
# receiver and its own consumer group, so this also shows they do not
# disturb each other:
#   NOTFOUND  404            -> every record dead-lettered at once, headers right
#   GONE      410            -> endpoint disabled after one request, nothing committed
#   SLOW      429 Retry-After: 4 -> no retry for 4 s, then delivered
#   HANG      answers after 3 s, timeout 500 ms -> retried, delivered when fixed
#   CLOSE     drops the connection -> retried, delivered when fixed
#   GIVEUP    500, give up after 1.5 s -> dead-lettered with status 500
#   FILTER    agency:Reuters -> only those delivered, the rest still committed
#   BATCH     20 per request -> JSON array bodies, all delivered
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNNER="${BYLINE_TOOLS_DIR}/bl_webhook_run"
RECEIVER="$BYLINE_SOURCE_DIR/tests/tools/webhook_receiver.py"
SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
N=40
[[ -x "$RUNNER" ]] || bl_fail "bl_webhook_run not found in BYLINE_TOOLS_DIR ($RUNNER)"
command -v python3 >/dev/null || bl_fail "python3 is needed for the webhook receiver"
command -v kcat >/dev/null || bl_fail "kcat is needed to produce records"

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PIDS=()
trap 'st=$?; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; (exit $st); bl_cleanup' EXIT
declare -A PORT
start_receiver() { # name mode
  PORT[$1]=$(free_port)
  python3 "$RECEIVER" --port "${PORT[$1]}" --secret "$SECRET" --mode "$2" --log "$BL_WORK/$1.ids" 2>>"$BL_WORK/$1.log" &
  PIDS+=($!)
}
stat_of() {
  curl -sf "http://127.0.0.1:${PORT[$1]}/_stats" 2>/dev/null |
    python3 -c "import json,sys;print(json.load(sys.stdin)['$2'])" 2>/dev/null || echo -1
}
stat_at_least() { local n; n=$(stat_of "$1" "$2"); ((n >= $3)); }
set_mode() { curl -sf -X POST -d "{\"mode\":\"$2\"}" "http://127.0.0.1:${PORT[$1]}/_control" >/dev/null; }
dlq_for() { grep -c "byline.webhook.endpoint=$1" "$BL_WORK/dlq.tsv" || true; }

OUT=$(bl_topic out) WH_DLQ=$(bl_topic whdlq) GROUP="it-whm-$BL_RUN_ID"
bl_create_topic "$OUT" 2
bl_create_topic "$WH_DLQ" 1
python3 - "$N" >"$BL_WORK/records.tsv" <<'EOF'
import json, sys
for i in range(int(sys.argv[1])):
    r = {"schema": "byline.article.v1", "id": "rec-%04d" % i,
         "published": {"date": "2022-01-%02d" % (i % 28 + 1)},
         "source": {"agencies": [{"name": "Reuters" if i % 2 else "AFP"}]},
         "entities": [{"name": "Vladimir Putin", "type": "PERSON"}], "text": "x" * 2000}
    print("%s\t%s" % (r["id"], json.dumps(r)))
EOF
kcat -b "$BL_BROKERS" -t "$OUT" -P -K $'\t' -l "$BL_WORK/records.tsv" || bl_fail "kcat produce failed"

start_receiver NOTFOUND status:404
start_receiver GONE status:410
start_receiver SLOW 429:4
start_receiver HANG hang:3
start_receiver CLOSE close
start_receiver GIVEUP status:500
start_receiver FILTER ok
start_receiver BATCH ok
for name in "${!PORT[@]}"; do
  bl_wait_for "receiver $name" 20 curl -sf -o /dev/null "http://127.0.0.1:${PORT[$name]}/_stats"
done

ENV=(BYLINE_BROKERS="$BL_BROKERS" BYLINE_GROUP_ID="$GROUP" BYLINE_OUTPUT_TOPIC="$OUT"
  BYLINE_WEBHOOK_DLQ_TOPIC="$WH_DLQ" BYLINE_SHUTDOWN_TIMEOUT_MS=2000)
for name in "${!PORT[@]}"; do
  ENV+=("BYLINE_WEBHOOK_${name}_URL=http://127.0.0.1:${PORT[$name]}/hook"
    "BYLINE_WEBHOOK_${name}_SECRET=$SECRET"
    "BYLINE_WEBHOOK_${name}_RETRY_INITIAL_MS=100"
    "BYLINE_WEBHOOK_${name}_RETRY_MAX_MS=400")
done
ENV+=(BYLINE_WEBHOOK_GONE_CONCURRENCY=1 BYLINE_WEBHOOK_SLOW_CONCURRENCY=1
  BYLINE_WEBHOOK_HANG_TIMEOUT_MS=500 BYLINE_WEBHOOK_GIVEUP_RETRY_GIVE_UP_MS=1500
  "BYLINE_WEBHOOK_FILTER_FILTER=agency:Reuters" BYLINE_WEBHOOK_BATCH_BATCH_SIZE=20)

env -i PATH="$PATH" "${ENV[@]}" "$RUNNER" 2>"$BL_WORK/runner.log" &
RUNNER_PID=$!
PIDS+=($RUNNER_PID)
t0=$SECONDS

bl_wait_for "SLOW's first 429" 60 stat_at_least SLOW requests 1
t_first=$SECONDS
sleep 1.5
slow_requests=$(stat_of SLOW requests)
((slow_requests == 1)) || bl_fail "SLOW was retried within 1.5 s of 'Retry-After: 4' ($slow_requests requests)"
set_mode SLOW ok
bl_wait_for "HANG's requests to time out and retry" 30 stat_at_least HANG requests 2
bl_wait_for "CLOSE's requests to be retried" 30 stat_at_least CLOSE requests 2
sleep 1
set_mode HANG ok
set_mode CLOSE ok
for name in SLOW HANG CLOSE BATCH; do
  bl_wait_for "$name to receive all $N" 90 stat_at_least "$name" unique_records "$N"
done
bl_wait_for "FILTER to receive the $((N / 2)) Reuters records" 60 stat_at_least FILTER unique_records $((N / 2))
bl_wait_for "dead letters of NOTFOUND and GIVEUP" 60 bl_count_at_least "$WH_DLQ" $((2 * N))
sleep 6 # one auto-commit interval (5 s), so stored offsets reach the broker
kill -TERM "$RUNNER_PID"
for _ in $(seq 1 300); do kill -0 "$RUNNER_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RUNNER_PID" 2>/dev/null && bl_fail "bl_webhook_run did not stop within 30 s of SIGTERM"
wait "$RUNNER_PID"
rc=$?
((rc == 0)) || bl_fail "bl_webhook_run exited $rc"

"$BL_TOOL" consume -b "$BL_BROKERS" -t "$WH_DLQ" --expect $((2 * N)) --timeout-ms 30000 --headers >"$BL_WORK/dlq.tsv" ||
  bl_fail "could not read the webhook dead-letter topic"
fail() { echo "  FAILED: $*"; bad=1; }
bad=0
echo "NOTFOUND: dead letters=$(dlq_for NOTFOUND) requests=$(stat_of NOTFOUND requests)"
(($(dlq_for NOTFOUND) == N)) || fail "NOTFOUND dead letters"
(($(stat_of NOTFOUND requests) == N)) || fail "a 404 must not be retried"
# (no early-exiting greps in pipes: pipefail would see their SIGPIPE)
good=$(grep "byline.webhook.endpoint=NOTFOUND" "$BL_WORK/dlq.tsv" | grep -c "byline.webhook.status=404.*byline.webhook.attempts=1.*byline.webhook.error=HTTP 404.*byline.origin.topic=$OUT.*byline.origin.offset=[0-9]")
((good == N)) ||
  fail "NOTFOUND dead-letter headers: $(grep -m1 NOTFOUND "$BL_WORK/dlq.tsv")"
echo "GIVEUP: dead letters=$(dlq_for GIVEUP) requests=$(stat_of GIVEUP requests)"
(($(dlq_for GIVEUP) == N)) || fail "GIVEUP dead letters"
good=$(grep "byline.webhook.endpoint=GIVEUP" "$BL_WORK/dlq.tsv" | grep -cE "byline.webhook.status=500	byline.webhook.attempts=([2-9]|[1-9][0-9]+)	")
((good == N)) ||
  fail "GIVEUP: every dead letter should carry status 500 and more than one attempt"
echo "GONE: requests=$(stat_of GONE requests) lag=$(bl_lag "$OUT" "$GROUP.webhook.gone")"
(($(stat_of GONE requests) == 1)) || fail "GONE should get one request, then be disabled"
(($(bl_lag "$OUT" "$GROUP.webhook.gone") == N)) || fail "GONE must commit nothing"
grep -q '"webhook.disabled"' "$BL_WORK/runner.log" || fail "no webhook.disabled log line"
echo "SLOW: second request $(($(stat_of SLOW requests) > 1)) after Retry-After, all=$(stat_of SLOW unique_records)"
echo "FILTER: records=$(stat_of FILTER unique_records) lag=$(bl_lag "$OUT" "$GROUP.webhook.filter")"
(($(stat_of FILTER unique_records) == N / 2)) || fail "FILTER delivered records that do not match"
(($(bl_lag "$OUT" "$GROUP.webhook.filter") == 0)) || fail "FILTER: filtered-out records must count as done"
echo "BATCH: requests=$(stat_of BATCH accepted_requests) records=$(stat_of BATCH unique_records)"
(($(stat_of BATCH accepted_requests) <= N / 2)) || fail "BATCH did not batch"
for name in HANG CLOSE SLOW BATCH; do
  (($(bl_lag "$OUT" "$GROUP.webhook.${name,,}") == 0)) || fail "$name did not commit all"
done
for name in "${!PORT[@]}"; do
  (($(stat_of "$name" bad_signatures) == 0)) || fail "$name saw bad signatures"
done
grep -q "$SECRET" "$BL_WORK/runner.log" && fail "a secret appears in the log"
((bad == 0)) || bl_fail "see above"
echo "PASS $BL_TEST_NAME"
