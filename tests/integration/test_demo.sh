#!/usr/bin/env bash
# `byline demo`, the zero-install trial: the whole pipeline on the in-process
# mock cluster prints one valid record per demo article, says that nothing
# is kept, exits 0, and delivers every record to a configured webhook (a
# real HTTP receiver on loopback that verifies the signatures itself).
set -uo pipefail
: "${BYLINE_BIN:?BYLINE_BIN is not set (run through ctest or tests/run.sh)}"
: "${BYLINE_SOURCE_DIR:?BYLINE_SOURCE_DIR is not set}"
work=$(mktemp -d /tmp/byline-demo.XXXXXX)
fail() { echo "FAIL test_demo: $*" >&2; tail -5 "$work/demo.err" >&2; exit 1; }
n_demo=$(ls "$BYLINE_SOURCE_DIR"/config/demo/*.txt | wc -l)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
secret="whsec_$(head -c 24 /dev/urandom | base64)"
python3 "$BYLINE_SOURCE_DIR/tests/tools/webhook_receiver.py" --port "$port" --secret "$secret" \
  --log "$work/received.log" >"$work/receiver.out" 2>&1 &
receiver=$!
trap 'kill $receiver 2>/dev/null; wait $receiver 2>/dev/null' EXIT
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break
  sleep 0.1
done

env -u BYLINE_BROKERS BYLINE_WEBHOOK_DEMO_URL="http://127.0.0.1:$port/hook" \
  BYLINE_WEBHOOK_DEMO_SECRET="$secret" timeout 120 "$BYLINE_BIN" demo >"$work/records.jsonl" 2>"$work/demo.err"
rc=$?
((rc == 0)) || fail "byline demo exited $rc"
grep -q 'nothing is kept' "$work/demo.err" || fail "the demo's log does not say that nothing is kept"
n=$(wc -l <"$work/records.jsonl")
((n == n_demo)) || fail "printed $n records for $n_demo demo articles"
python3 "$BYLINE_SOURCE_DIR/tests/integration/validate_records.py" \
  "$BYLINE_SOURCE_DIR/config/record.schema.json" "$work/records.jsonl" || fail "demo records do not match the schema"
got=$(wc -l <"$work/received.log" 2>/dev/null || echo 0)
((got >= n_demo)) || fail "the webhook received $got of $n_demo records"
echo "demo: $n records printed, $got webhook deliveries (signatures verified by the receiver)"
rm -rf "$work"
