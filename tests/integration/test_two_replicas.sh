#!/usr/bin/env bash
# Two byline replicas in one consumer group on a 6-partition input topic
# (issue 5): the partitions split between them (both > 0, together all 6,
# no partition twice, by their logs and by their lag series); one is
# SIGKILLed mid-stream; the other takes over all 6 partitions and every
# generated article comes out. Duplicates are allowed after a SIGKILL and are
# counted and printed; a missing id fails.
#
# The 6,000 articles come in three batches of 2,000: batch 1 while both
# run (both must deliver records); batch 2, with replica b SIGKILLed as soon
# as it delivers more records while it is produced (mid-stream: its
# uncommitted work is redone by a); batch 3 after the kill, partly onto b's
# former partitions, which only a take-over can process.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_ops.sh"

TOTAL_S=${BL_OPS_TOTAL_S:-300} # the whole test, start to end (ASan on a loaded machine: ~100 s)
NB=${BL_OPS_BATCH:-2000} # articles per batch; three batches
PARTS=6
t_end=$((SECONDS + TOTAL_S))
# left [CAP]: seconds left of the whole budget (at most CAP), at least 1;
# a wait that runs out of budget fails with its own description.
left() {
  local l=$((t_end - SECONDS))
  ((l < 1)) && l=1
  [[ -n "${1:-}" ]] && ((l > $1)) && l=$1
  echo "$l"
}

BL_IN=$(bl_topic in) BL_OUT=$(bl_topic out) BL_DLQ=$(bl_topic dlq) BL_GROUP="it-two-$BL_RUN_ID"
bl_create_topic "$BL_IN" "$PARTS"
bl_create_topic "$BL_OUT" "$PARTS"
bl_create_topic "$BL_DLQ" 1

# A short session: the group notices the killed replica sooner.
common=(BYLINE_KAFKA_CONSUMER_SESSION_TIMEOUT_MS=6000 BYLINE_KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS=1000)
bl_ops_start a "$BL_WORK/byline.a.log" "${common[@]}"
bl_ops_start b "$BL_WORK/byline.b.log" "${common[@]}"
log_a=${BL_OPS_LOG[a]} log_b=${BL_OPS_LOG[b]}

# ------------------------------------------------------------ the split
split_by_logs() {
  local na nb
  na=$(bl_ops_assigned "$log_a") nb=$(bl_ops_assigned "$log_b")
  ((na > 0 && nb > 0 && na + nb == PARTS))
}
bl_ops_wait_for "both replicas to hold partitions, $PARTS together (by their logs)" "$(left 120)" split_by_logs
bl_log "split by the logs: a holds $(bl_ops_assigned "$log_a"), b holds $(bl_ops_assigned "$log_b") of $PARTS partitions"

# ------------------------------------------------------------ batch 1
"$BL_TOOL" produce-gen -b "$BL_BROKERS" -t "$BL_IN" -n "$NB" --seed 31 --prefix one >"$BL_WORK/gen.1.tsv" ||
  bl_ops_fail "producing batch 1 ($NB articles) failed"
bl_log "produced batch 1: $NB generated articles"

# produced_by NAME: byline_produced_total of replica NAME now.
produced_by() {
  local v
  bl_ops_scrape "$1" "$BL_WORK/metrics.$1"
  v=$(bl_ops_metric "$BL_WORK/metrics.$1" byline_produced_total)
  echo "${v:-0}"
}
both_delivered() { (($(produced_by a) > 0 && $(produced_by b) > 0)); }
bl_ops_wait_for "both replicas to deliver records" "$(left 120)" both_delivered

# The lag series (librdkafka statistics, every 5 s; a partition has one
# once something of it was consumed) name the partitions: disjoint, both
# non-empty, together 0..5.
split_by_metrics() {
  bl_ops_scrape a "$BL_WORK/metrics.a"
  bl_ops_scrape b "$BL_WORK/metrics.b"
  bl_ops_lag_partitions "$BL_WORK/metrics.a" "$BL_IN" >"$BL_WORK/parts.a"
  bl_ops_lag_partitions "$BL_WORK/metrics.b" "$BL_IN" >"$BL_WORK/parts.b"
  [[ -s "$BL_WORK/parts.a" && -s "$BL_WORK/parts.b" ]] || return 1
  [[ -z "$(comm -12 "$BL_WORK/parts.a" "$BL_WORK/parts.b")" ]] || return 1
  [[ "$(sort -n "$BL_WORK/parts.a" "$BL_WORK/parts.b" | tr '\n' ' ')" == "$(seq 0 $((PARTS - 1)) | tr '\n' ' ')" ]]
}
bl_ops_wait_for "the lag series of a and b to split partitions 0..$((PARTS - 1))" "$(left 90)" split_by_metrics
bl_log "split by /metrics: a has partitions $(tr '\n' ' ' <"$BL_WORK/parts.a"); b has $(tr '\n' ' ' <"$BL_WORK/parts.b")"
for r in a b; do
  code=$(bl_ops_http "${BL_OPS_PORT[$r]}" /readyz)
  [[ $code == 200 ]] || bl_ops_fail "/readyz of replica $r answered $code while it holds partitions (want 200)"
done

# ------------------------------------------------------------ batch 2, SIGKILL b mid-stream
b_before=$(produced_by b)
"$BL_TOOL" produce-gen -b "$BL_BROKERS" -t "$BL_IN" -n "$NB" --seed 37 --prefix two >"$BL_WORK/gen.2.tsv" \
  2>"$BL_WORK/gen.2.err" &
gen_pid=$!
BL_OPS_HELPER_PIDS+=("$gen_pid")
b_moved() { (($(produced_by b) > b_before)); }
bl_ops_wait_for "replica b to deliver more records (mid-stream)" "$(left 120)" b_moved
out_at_kill=$(bl_count "$BL_OUT")
bl_log "SIGKILL to replica b: $out_at_kill records out; a delivered $(produced_by a), b $(produced_by b)"
bl_ops_stop b KILL 30
[[ $BL_OPS_RC -ne 0 ]] || bl_ops_fail "replica b exited 0 after SIGKILL: was it killed at all?"
deadline=$((SECONDS + $(left 120)))
while kill -0 "$gen_pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
if kill -0 "$gen_pid" 2>/dev/null; then
  kill -KILL "$gen_pid" 2>/dev/null
  wait "$gen_pid" 2>/dev/null
  bl_ops_fail "producing batch 2 did not finish in time"
fi
wait "$gen_pid" || bl_ops_fail "producing batch 2 ($NB articles) failed: $(tail -n 3 "$BL_WORK/gen.2.err")"
bl_log "produced batch 2: $NB generated articles"

# ------------------------------------------------------------ batch 3: only a take-over processes it all
"$BL_TOOL" produce-gen -b "$BL_BROKERS" -t "$BL_IN" -n "$NB" --seed 41 --prefix three >"$BL_WORK/gen.3.tsv" ||
  bl_ops_fail "producing batch 3 ($NB articles) failed"
bl_log "produced batch 3: $NB generated articles"
cat "$BL_WORK/gen.1.tsv" "$BL_WORK/gen.2.tsv" "$BL_WORK/gen.3.tsv" >"$BL_WORK/gen.tsv"
n=$((3 * NB))
[[ $(wc -l <"$BL_WORK/gen.tsv") -eq $n ]] || bl_ops_fail "the generator listed $(wc -l <"$BL_WORK/gen.tsv") ids, want $n"

# ------------------------------------------------------------ take-over
a_holds_all() { (($(bl_ops_assigned "$log_a") == PARTS)); }
bl_ops_wait_for "replica a to take over all $PARTS partitions (its log)" "$(left 120)" a_holds_all
bl_log "replica a holds all $PARTS partitions; its rebalances: $(grep -F '"event":"rebalance"' "$log_a" |
  sed -n 's/.*"msg":"\(assigned\|revoked\) \([0-9]*\) partition.*/\1 \2/p' | paste -sd ',')"

bl_ops_wait_for "group $BL_GROUP to commit all of $BL_IN" "$(left)" bl_lag_is_zero "$BL_IN" "$BL_GROUP"
a_lags_all() {
  bl_ops_scrape a "$BL_WORK/metrics.a"
  [[ "$(bl_ops_lag_partitions "$BL_WORK/metrics.a" "$BL_IN" | tr '\n' ' ')" == "$(seq 0 $((PARTS - 1)) | tr '\n' ' ')" ]]
}
bl_ops_wait_for "replica a's lag series to cover partitions 0..$((PARTS - 1))" "$(left 60)" a_lags_all
bl_log "all of $BL_IN committed after $((SECONDS - (t_end - TOTAL_S)))s; $(bl_count "$BL_OUT") records out"

# ------------------------------------------------------------ nothing lost
BL_IT_TIMEOUT_S=$(left 120) bl_consume "$BL_OUT" "$n" "$BL_WORK/out.tsv"
n_dlq=$(bl_count "$BL_DLQ")
[[ $n_dlq -eq 0 ]] || bl_ops_fail "$n_dlq generated article(s) were dead-lettered (want 0)"
bl_log "records out: $(wc -l <"$BL_WORK/out.tsv") for $n generated articles"
bl_check_generated "$BL_WORK/gen.tsv" "$BL_WORK/out.tsv" 1

bl_ops_stop a TERM 60
[[ $BL_OPS_RC -eq 0 ]] || bl_ops_fail "replica a exited with status $BL_OPS_RC after SIGTERM (want 0)"
bl_log "PASS: two replicas split $PARTS partitions; after SIGKILL of one the other took all over; no id missing"
