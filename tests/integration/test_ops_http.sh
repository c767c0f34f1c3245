#!/usr/bin/env bash
# /healthz, /readyz and /metrics against the real broker (issue 5):
# - /healthz answers 200 while /readyz still answers 503 with a reason;
# - /readyz turns 200 only once the consumer has joined its group. To make
#   the not-joined phase certain (not a race with a fast join), byline starts
#   before its input topic exists: librdkafka does not join a group while no
#   subscribed topic exists. The topic is then created, and /readyz must turn
#   200 with the "assigned" rebalance in the log;
# - after N generated articles and 3 bad messages, the counters moved by
#   exactly what was sent: consumed N+3, produced N, dead-lettered 1 per
#   reason, latency histogram count N+3 with observations below +Inf,
#   articles with a publication date N and crediting an agency N (every
#   generated article has a wire dateline), entities > 0, lag 0 for every
#   input partition;
# - a webhook signing secret appears neither in /metrics nor in the log.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_ops.sh"

N=${BL_OPS_COUNT:-500}
PARTS=3
BL_IN=$(bl_topic in) BL_OUT=$(bl_topic out) BL_DLQ=$(bl_topic dlq) BL_GROUP="it-ops-http-$BL_RUN_ID"
bl_create_topic "$BL_OUT" 1
bl_create_topic "$BL_DLQ" 1

# A webhook endpoint on a port nobody listens on, with a fresh secret: its
# deliveries fail and are retried (with signing), and the secret must never
# be shown.
hook_port=$(bl_ops_free_port) || bl_fail "no free port"
secret_b64=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
secret="whsec_$secret_b64"

log=$BL_WORK/byline.log
# Metadata refreshed every second: the new input topic is seen quickly.
bl_ops_start main "$log" \
  BYLINE_KAFKA_CONSUMER_TOPIC_METADATA_REFRESH_INTERVAL_MS=1000 \
  BYLINE_WEBHOOK_T_URL="http://127.0.0.1:$hook_port/x" \
  BYLINE_WEBHOOK_T_SECRET="$secret"
port=${BL_OPS_PORT[main]}
body=$BL_WORK/body

# ---------------------------------------------------------------- readiness
# The input topic does not exist yet, so the group cannot have been joined.
code=$(bl_ops_http "$port" /readyz "$body")
[[ $code == 503 ]] || bl_ops_fail "/readyz answered $code before the input topic exists (want 503): $(head -c 200 "$body")"
[[ -n "$(tr -d '[:space:]' <"$body")" ]] || bl_ops_fail "/readyz answered 503 without a reason"
bl_log "/readyz before the group is joined: 503 '$(head -n1 "$body")'"

# Once byline's statistics show the broker up, the reason left is the group.
readyz_says_group() {
  local c
  c=$(bl_ops_http "$port" /readyz "$body")
  [[ $c == 503 ]] || bl_ops_fail "/readyz answered $c while the group cannot be joined (want 503): $(head -c 200 "$body")"
  grep -qi "group" "$body"
}
bl_ops_wait_for "/readyz to name the group as the reason" 90 readyz_says_group
bl_log "/readyz: 503 '$(head -n1 "$body")'"
code=$(bl_ops_http "$port" /healthz "$body")
[[ $code == 200 ]] || bl_ops_fail "/healthz answered $code while not ready (liveness must not depend on readiness)"
grep -q '"msg":"assigned' "$log" && bl_ops_fail "the log shows an assignment although the input topic does not exist"
bl_ops_scrape main "$BL_WORK/metrics.0"
for g in byline_ready byline_group_joined; do
  v=$(bl_ops_metric "$BL_WORK/metrics.0" "$g")
  [[ $v == 0 ]] || bl_ops_fail "$g is '$v' while /readyz answers 503 (want 0)"
done

bl_create_topic "$BL_IN" "$PARTS"
bl_log "created $BL_IN ($PARTS partitions)"
readyz_ok() {
  local c
  c=$(bl_ops_http "$port" /readyz "$body")
  [[ $c == 200 ]] && return 0
  [[ $c == 503 && -n "$(tr -d '[:space:]' <"$body")" ]] ||
    bl_ops_fail "/readyz answered $c '$(head -c 200 "$body")' (want 503 with a reason, or 200)"
  return 1
}
bl_ops_wait_for "/readyz to answer 200 after the topic was created" 120 readyz_ok
bl_log "/readyz: 200 '$(head -n1 "$body")'"
# The flag is set just before the log line is written: allow a moment.
log_has_assignment() { grep -qF "\"msg\":\"assigned $PARTS partition(s) of $BL_IN\"" "$log"; }
bl_ops_wait_for "the log line 'assigned $PARTS partition(s) of $BL_IN'" 30 log_has_assignment
bl_ops_scrape main "$BL_WORK/metrics.1"
for g in byline_ready byline_group_joined byline_broker_up; do
  v=$(bl_ops_metric "$BL_WORK/metrics.1" "$g")
  [[ $v == 1 ]] || bl_ops_fail "$g is '$v' while /readyz answers 200 (want 1)"
done

# Counters before any message (a fresh process: all 0, but compare deltas).
m0=$BL_WORK/metrics.1
base() { local v; v=$(bl_ops_metric "$m0" "$1"); echo "${v:-0}"; }
base_consumed=$(base byline_consumed_total)
base_produced=$(base byline_produced_total)
base_latency=$(base byline_processing_latency_seconds_count)
base_articles=$(base byline_articles_total)
base_dated=$(base byline_articles_with_published_date_total)
base_entities=$(base byline_entities_total)
base_agency=$(base byline_articles_crediting_agency_total)
[[ -z $(grep '^byline_dead_lettered_total{' "$m0") ]] || bl_ops_fail "dead-letter series before any message: $(grep '^byline_dead_lettered_total{' "$m0")"

# ---------------------------------------------------------------- messages
"$BL_TOOL" produce-gen -b "$BL_BROKERS" -t "$BL_IN" -n "$N" --seed 5 --prefix ops >"$BL_WORK/gen.tsv" ||
  bl_ops_fail "producing $N generated articles failed"
d=$BL_WORK/bad
mkdir -p "$d"
: >"$d/empty"
printf ' date 2021-05-06 Bad bytes\n\nSome text \xc3\x28 and \xff\xfe here, said the council on Tuesday.\n' >"$d/invalid_utf8"
printf '{"id":"ops-bad-json","headline":"Cut short","body":"The council met on Tues' >"$d/truncated_json"
p=0
for f in empty invalid_utf8 truncated_json; do
  "$BL_TOOL" produce-file -b "$BL_BROKERS" -t "$BL_IN" -p $((p++ % PARTS)) -k "$f" "$d/$f" >/dev/null ||
    bl_ops_fail "producing $f failed"
done
bl_log "produced $N generated articles and 3 bad messages to $BL_IN"

bl_ops_wait_for "$N records in $BL_OUT" "$BL_IT_TIMEOUT_S" bl_count_at_least "$BL_OUT" "$N"
bl_ops_wait_for "3 dead letters in $BL_DLQ" 120 bl_count_at_least "$BL_DLQ" 3
# Committed offsets at the end: every message is done, so its counters moved.
bl_ops_wait_for "group $BL_GROUP to commit all of $BL_IN" 120 bl_lag_is_zero "$BL_IN" "$BL_GROUP"
n_out=$(bl_count "$BL_OUT") n_dlq=$(bl_count "$BL_DLQ")
[[ $n_out -eq $N ]] || bl_ops_fail "$BL_OUT has $n_out records (want exactly $N)"
[[ $n_dlq -eq 3 ]] || bl_ops_fail "$BL_DLQ has $n_dlq dead letters (want exactly 3)"

# The lag gauge comes from librdkafka's statistics (every 5 s): wait for a
# series per input partition, all 0.
mf=$BL_WORK/metrics.2
lag_done() {
  bl_ops_scrape main "$mf"
  [[ "$(bl_ops_lag_partitions "$mf" "$BL_IN" | tr '\n' ' ')" == "$(seq 0 $((PARTS - 1)) | tr '\n' ' ')" ]] || return 1
  local p v
  for ((p = 0; p < PARTS; p++)); do
    v=$(bl_ops_metric "$mf" "byline_consumer_lag{topic=\"$BL_IN\",partition=\"$p\"}")
    [[ $v == 0 ]] || return 1
  done
}
deadline=$((SECONDS + 60))
until lag_done; do
  bl_ops_alive_check
  if ((SECONDS >= deadline)); then
    bl_ops_fail "byline_consumer_lag for $BL_IN partitions 0..$((PARTS - 1)) is not all 0 after 60s: $(grep "^byline_consumer_lag{" "$mf" | tr '\n' ' ')"
  fi
  sleep 1
done
bl_log "lag series: $(grep "^byline_consumer_lag{topic=\"$BL_IN\"" "$mf" | tr '\n' ' ')"

# ---------------------------------------------------------------- counters
errors=()
want() { # want DESCRIPTION GOT EXPECTED
  if [[ "$2" != "$3" ]]; then errors+=("$1: got '$2', want $3"); fi
}
val() { local v; v=$(bl_ops_metric "$mf" "$1"); echo "${v:-absent}"; }
delta() { local v; v=$(bl_ops_metric "$mf" "$1"); [[ -n $v ]] && echo $((v - $2)) || echo absent; }

want "byline_consumed_total moved by" "$(delta byline_consumed_total "$base_consumed")" $((N + 3))
want "byline_produced_total moved by" "$(delta byline_produced_total "$base_produced")" "$N"
for r in empty invalid_utf8 bad_json; do
  want "byline_dead_lettered_total{reason=\"$r\"}" "$(val "byline_dead_lettered_total{reason=\"$r\"}")" 1
done
dlq_series=$(grep -c '^byline_dead_lettered_total{' "$mf")
want "dead-letter series (reasons)" "$dlq_series" 3
want "byline_processing_latency_seconds_count moved by" \
  "$(delta byline_processing_latency_seconds_count "$base_latency")" $((N + 3))
want "latency bucket le=\"+Inf\" equals _count" \
  "$(val 'byline_processing_latency_seconds_bucket{le="+Inf"}')" "$(val byline_processing_latency_seconds_count)"
# Cumulative buckets never decrease; the largest finite one has observations.
hist=$(awk '$1 ~ /^byline_processing_latency_seconds_bucket\{/ {
    n++; if (n > 1 && $2 + 0 < prev) bad = 1; prev = $2 + 0; if ($1 !~ /"\+Inf"/) finite = $2 + 0 }
  END { print n + 0, bad + 0, finite + 0 }' "$mf")
read -r n_buckets buckets_bad finite_obs <<<"$hist"
((n_buckets >= 2)) || errors+=("latency histogram has $n_buckets buckets")
((buckets_bad == 0)) || errors+=("latency histogram buckets are not cumulative")
((finite_obs > 0)) || errors+=("no latency observation in any bucket below +Inf")
awk '$1 == "byline_processing_latency_seconds_sum" { exit !($2 > 0) }' "$mf" ||
  errors+=("byline_processing_latency_seconds_sum is not > 0")
want "byline_articles_total moved by" "$(delta byline_articles_total "$base_articles")" "$N"
want "byline_articles_with_published_date_total moved by" \
  "$(delta byline_articles_with_published_date_total "$base_dated")" "$N"
entities=$(delta byline_entities_total "$base_entities")
[[ $entities =~ ^[0-9]+$ ]] && ((entities > 0)) || errors+=("byline_entities_total moved by '$entities', want > 0")
# Every generated article opens with a "Place (Reuters|AFP) —" dateline.
want "byline_articles_crediting_agency_total moved by" \
  "$(delta byline_articles_crediting_agency_total "$base_agency")" "$N"
if ((${#errors[@]})); then
  printf '  %s\n' "${errors[@]}" >&2
  echo "--- metrics ($mf):" >&2
  grep -v '^#' "$mf" | grep -v '_bucket{' >&2
  bl_ops_fail "${#errors[@]} metric(s) off after $N articles and 3 bad messages (see above)"
fi
bl_log "metrics: consumed $(val byline_consumed_total), produced $(val byline_produced_total)," \
  "dead-lettered $(grep '^byline_dead_lettered_total{' "$mf" | tr '\n' ' ')latency count" \
  "$(val byline_processing_latency_seconds_count), entities $entities," \
  "crediting an agency $(val byline_articles_crediting_agency_total)"

# ---------------------------------------------------------------- secrets
# The webhook has been tried (and failed: nothing listens): its signing ran.
hook_tried() {
  bl_ops_scrape main "$mf"
  grep -qE '^byline_webhook_deliveries_total\{.*result="retry"\} [1-9]' "$mf"
}
bl_ops_wait_for "a failed webhook delivery to be counted as retry" 120 hook_tried
bl_log "webhook: $(grep '^byline_webhook_deliveries_total{' "$mf" | tr '\n' ' ')"
bl_ops_stop main TERM 60
[[ $BL_OPS_RC -eq 0 ]] || bl_ops_fail "byline exited with status $BL_OPS_RC after SIGTERM (want 0)"
for f in "$mf" "$log" "$log.stdout"; do
  [[ -e $f ]] || continue
  if grep -qF -- "$secret_b64" "$f"; then
    bl_ops_fail "the webhook secret appears in $f: $(grep -nF -- "$secret_b64" "$f" | head -n 3 | cut -c1-300)"
  fi
done
bl_log "the webhook secret appears neither in /metrics nor in byline's log"
bl_log "PASS: /healthz, /readyz after the group join, exact /metrics counters, no secret shown"
