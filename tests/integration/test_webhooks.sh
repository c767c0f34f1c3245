#!/usr/bin/env bash
# Webhooks through the whole service: N articles (default 10,000) in, three
# endpoints - A healthy, B failing half of its requests at random, C down
# (nothing listening) for at least 30 s and until the Kafka output and A are
# complete, which shows C holds back neither. Then every record must reach
# every endpoint at least once, with signatures verified by the receiver's
# own code; duplicates are counted and printed. Finally byline is SIGKILLed
# while C's deliveries of a second wave are pending, restarted, and nothing
# may be missing at any endpoint.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${BL_WEBHOOK_COUNT:-10000}
N2=${BL_WEBHOOK_COUNT2:-2000}
DOWN_S=${BL_WEBHOOK_DOWN_S:-30}
RECEIVER="$BYLINE_SOURCE_DIR/tests/tools/webhook_receiver.py"
SECRET_A="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_B_OLD="whsec_c2Vjb25kLWtleQ=="
command -v python3 >/dev/null || bl_fail "python3 is needed for the webhook receiver"
command -v curl >/dev/null || bl_fail "curl is needed to read the receiver's stats"

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PORT_A=$(free_port) PORT_B=$(free_port) PORT_C=$(free_port)
RECEIVER_PIDS=()
stop_receivers() { for p in "${RECEIVER_PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap 'st=$?; stop_receivers; (exit $st); bl_cleanup' EXIT

start_receiver() { # name port args...
  local name=$1 port=$2
  shift 2
  python3 "$RECEIVER" --port "$port" --log "$BL_WORK/$name.ids" "$@" 2>>"$BL_WORK/$name.log" &
  RECEIVER_PIDS+=($!)
  bl_wait_for "receiver $name up" 20 curl -sf -o /dev/null "http://127.0.0.1:$port/_stats"
}
stat_of() { # port field -> value, -1 when unreachable
  curl -sf "http://127.0.0.1:$1/_stats" 2>/dev/null |
    python3 -c "import json,sys;print(json.load(sys.stdin)['$2'])" 2>/dev/null || echo -1
}
unique_at_least() { local n; n=$(stat_of "$1" unique_records); ((n >= $2)); }

BL_IN=$(bl_topic in) BL_OUT=$(bl_topic out) BL_DLQ=$(bl_topic dlq) BL_GROUP="it-wh-$BL_RUN_ID"
WH_DLQ=$(bl_topic whdlq)
bl_create_topic "$BL_IN" 4
bl_create_topic "$BL_OUT" 4
bl_create_topic "$BL_DLQ" 1
bl_create_topic "$WH_DLQ" 1

WEBHOOK_ENV=(
  BYLINE_WEBHOOK_DLQ_TOPIC="$WH_DLQ"
  BYLINE_KAFKA_SESSION_TIMEOUT_MS=6000
  BYLINE_WEBHOOK_A_URL="http://127.0.0.1:$PORT_A/hook"
  BYLINE_WEBHOOK_A_SECRET="$SECRET_A"
  BYLINE_WEBHOOK_B_URL="http://127.0.0.1:$PORT_B/hook"
  BYLINE_WEBHOOK_B_SECRET="$SECRET_B_OLD $SECRET_A" # rotation: receiver knows only the new one
  BYLINE_WEBHOOK_B_RETRY_INITIAL_MS=200
  BYLINE_WEBHOOK_B_RETRY_MAX_MS=2000
  BYLINE_WEBHOOK_C_URL="http://127.0.0.1:$PORT_C/hook"
  BYLINE_WEBHOOK_C_SECRET="$SECRET_A"
  BYLINE_WEBHOOK_C_BATCH_SIZE=20
  BYLINE_WEBHOOK_C_RETRY_INITIAL_MS=500
  BYLINE_WEBHOOK_C_RETRY_MAX_MS=3000
  BYLINE_WEBHOOK_C_CONNECT_TIMEOUT_MS=1000
)

start_receiver A "$PORT_A" --secret "$SECRET_A"
start_receiver B "$PORT_B" --secret "$SECRET_A" --mode flaky:0.5 --seed 7
"$BL_TOOL" produce-gen -b "$BL_BROKERS" -t "$BL_IN" -n "$N" --seed 41 >"$BL_WORK/gen.tsv" ||
  bl_fail "producing $N articles failed"
t0=$SECONDS
bl_byline_start "$BL_WORK/byline.1.log" "${WEBHOOK_ENV[@]}"

# --- phase 1: C is down; output and A must complete regardless ---
bl_wait_for "all $N records in the output topic while C is down" "$BL_IT_TIMEOUT_S" bl_count_at_least "$BL_OUT" "$N"
t_out=$((SECONDS - t0))
bl_wait_for "endpoint A to receive all $N while C is down" "$BL_IT_TIMEOUT_S" unique_at_least "$PORT_A" "$N"
t_a=$((SECONDS - t0))
bl_log "output complete after ${t_out}s, endpoint A after ${t_a}s, with C still down"
while ((SECONDS - t0 < DOWN_S)); do sleep 0.5; done
curl -sf -o /dev/null "http://127.0.0.1:$PORT_C/_stats" && bl_fail "endpoint C should still be down"
start_receiver C "$PORT_C" --secret "$SECRET_A"
t_c_up=$((SECONDS - t0))
bl_log "endpoint C up after ${t_c_up}s"

bl_wait_for "endpoint B (failing half) to receive all $N" "$BL_IT_TIMEOUT_S" unique_at_least "$PORT_B" "$N"
bl_wait_for "endpoint C (was down) to receive all $N" "$BL_IT_TIMEOUT_S" unique_at_least "$PORT_C" "$N"
bl_log "phase 1 done after $((SECONDS - t0))s"

# --- phase 2: SIGKILL while deliveries are pending, restart ---
curl -sf -X POST -d '{"mode":"hang:3"}' "http://127.0.0.1:$PORT_C/_control" >/dev/null
"$BL_TOOL" produce-gen -b "$BL_BROKERS" -t "$BL_IN" -n "$N2" --seed 42 --prefix wave2 >"$BL_WORK/gen2.tsv" ||
  bl_fail "producing the second wave failed"
total=$((N + N2))
bl_wait_for "second wave in the output topic" "$BL_IT_TIMEOUT_S" bl_count_at_least "$BL_OUT" "$total"
c_before=$(stat_of "$PORT_C" unique_records)
((c_before < total)) || bl_fail "C already has everything: nothing pending to kill"
bl_byline_stop KILL 30
bl_log "SIGKILLed byline with C at $c_before of $total (deliveries pending)"
curl -sf -X POST -d '{"mode":"ok"}' "http://127.0.0.1:$PORT_C/_control" >/dev/null
bl_byline_start "$BL_WORK/byline.2.log" "${WEBHOOK_ENV[@]}"
for p in A:$PORT_A B:$PORT_B C:$PORT_C; do
  bl_wait_for "endpoint ${p%%:*} to hold all $total after the restart" "$BL_IT_TIMEOUT_S" unique_at_least "${p#*:}" "$total"
done
bl_byline_stop TERM 60
[[ $BL_BYLINE_RC -eq 0 ]] || bl_fail "byline exited $BL_BYLINE_RC after SIGTERM (want 0)"

# --- the checks a user would make ---
bl_consume "$BL_OUT" "$total" "$BL_WORK/out.tsv"
cut -f3 "$BL_WORK/out.tsv" | sort -u >"$BL_WORK/out.ids"
nout=$(wc -l <"$BL_WORK/out.ids")
((nout == total)) || bl_fail "output topic holds $nout distinct ids, want $total"
fail=0
for name in A B C; do
  port_var="PORT_$name"
  cut -f2 "$BL_WORK/$name.ids" | sort >"$BL_WORK/$name.sorted"
  got=$(sort -u "$BL_WORK/$name.sorted" | wc -l)
  copies=$(wc -l <"$BL_WORK/$name.sorted")
  missing=$(comm -23 "$BL_WORK/out.ids" <(sort -u "$BL_WORK/$name.sorted") | wc -l)
  badsig=$(stat_of "${!port_var}" bad_signatures)
  echo "endpoint $name: distinct=$got of $total missing=$missing duplicates=$((copies - got)) bad_signatures=$badsig status=$(curl -sf "http://127.0.0.1:${!port_var}/_stats" | python3 -c 'import json,sys;print(json.load(sys.stdin)["by_status"])')"
  ((missing == 0 && badsig == 0)) || fail=1
done
wh_dlq=$(bl_count "$WH_DLQ")
echo "webhook dead letters: $wh_dlq (want 0: give-up is hours away)"
((wh_dlq == 0)) || fail=1
((fail == 0)) || bl_fail "a record is missing at an endpoint, a signature failed, or something was dead-lettered"
echo "PASS $BL_TEST_NAME"
