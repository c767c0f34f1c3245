# Helpers for the integration tests (sourced, not run). They need a real
# broker: tests/run.sh starts one with tests/kafka/broker.sh and exports
# BYLINE_TEST_BROKERS; ctest passes BYLINE_BIN, BYLINE_TOOLS_DIR,
# BYLINE_SOURCE_DIR, BYLINE_SHARED_DIR and BYLINE_CONFIG_DIR.
#
# Every wait is bounded: BL_IT_TIMEOUT_S (default 300) caps the long ones.
# shellcheck shell=bash

set -uo pipefail

BL_TEST_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
BL_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BYLINE_SOURCE_DIR:=$(cd "$BL_LIB_DIR/../.." && pwd)}"
: "${BYLINE_SHARED_DIR:=$BYLINE_SOURCE_DIR/../shared}"
: "${BYLINE_CONFIG_DIR:=$BYLINE_SOURCE_DIR/config}"
: "${BL_IT_TIMEOUT_S:=300}"
export BYLINE_SOURCE_DIR BYLINE_SHARED_DIR BYLINE_CONFIG_DIR

bl_log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$BL_TEST_NAME" "$*" >&2; }

# Ends the test with a clear reason (and byline's log tail, if any).
bl_fail() {
  printf 'FAIL %s: %s\n' "$BL_TEST_NAME" "$*" >&2
  if [[ -n "${BL_BYLINE_LOG:-}" && -s "$BL_BYLINE_LOG" ]]; then
    echo "--- last lines of byline's log ($BL_BYLINE_LOG):" >&2
    tail -n 20 "$BL_BYLINE_LOG" | cut -c1-400 >&2
  fi
  BL_FAILED=1
  exit 1
}

if [[ -z "${BYLINE_TEST_BROKERS:-}" ]]; then
  echo "BYLINE_TEST_BROKERS is not set: run tests/run.sh, which starts a Kafka broker" >&2
  exit 1
fi
if [[ -z "${BYLINE_BIN:-}" || ! -x "$BYLINE_BIN" ]]; then
  echo "BYLINE_BIN is not set or not executable (${BYLINE_BIN:-unset}): run through ctest or tests/run.sh" >&2
  exit 1
fi
BL_TOOL="${BYLINE_TOOLS_DIR:-}/bl_kafkatool"
if [[ ! -x "$BL_TOOL" ]]; then
  echo "bl_kafkatool not found at '$BL_TOOL': set BYLINE_TOOLS_DIR to the build's tests/ directory" >&2
  exit 1
fi
BL_BROKERS=$BYLINE_TEST_BROKERS

# A scratch directory per test run; kept when the test fails.
BL_WORK=$(mktemp -d "${TMPDIR:-/tmp}/byline-it.$BL_TEST_NAME.XXXXXX")
BL_RUN_ID="$$-$(date +%s)"
BL_FAILED=0
BL_BYLINE_PID=
BL_BYLINE_LOG=
BL_OTHER_PIDS=() # more byline instances (tests that run several)

bl_cleanup() {
  local rc=$?
  local pid
  for pid in $BL_BYLINE_PID "${BL_OTHER_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  if [[ $rc -ne 0 || $BL_FAILED -ne 0 ]]; then
    echo "(files of this run kept in $BL_WORK)" >&2
  else
    rm -rf "$BL_WORK"
  fi
}
trap bl_cleanup EXIT

# bl_topic NAME: a topic name unique to this test run.
bl_topic() { echo "it.$BL_TEST_NAME.$1.$BL_RUN_ID"; }

# bl_create_topic TOPIC PARTITIONS
bl_create_topic() {
  "$BL_TOOL" create-topic -b "$BL_BROKERS" -t "$1" -p "$2" || bl_fail "could not create topic $1"
}

# bl_count TOPIC: messages in TOPIC now (duplicates included).
bl_count() { "$BL_TOOL" count -b "$BL_BROKERS" -t "$1" 2>/dev/null || echo -1; }

# bl_lag TOPIC GROUP: messages of TOPIC the group has not committed yet.
bl_lag() { "$BL_TOOL" lag -b "$BL_BROKERS" -t "$1" --group "$2" 2>/dev/null || echo -1; }

# bl_wait_for DESCRIPTION TIMEOUT_S COMMAND...: polls COMMAND every 0.2 s
# until it succeeds; fails the test after TIMEOUT_S. Stops early (and
# fails) if byline was started and has exited.
bl_wait_for() {
  local desc=$1 timeout_s=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout_s))
  while ((SECONDS < deadline)); do
    "$@" && return 0
    if [[ -n "$BL_BYLINE_PID" ]] && ! kill -0 "$BL_BYLINE_PID" 2>/dev/null; then
      wait "$BL_BYLINE_PID" 2>/dev/null
      local rc=$?
      BL_BYLINE_PID=
      bl_fail "byline exited (status $rc) while waiting for: $desc"
    fi
    sleep 0.2
  done
  bl_fail "timed out after ${timeout_s}s waiting for: $desc"
}

# Conditions for bl_wait_for.
bl_count_at_least() { local n; n=$(bl_count "$1"); ((n >= $2)); }
bl_lag_is_zero() { local n; n=$(bl_lag "$1" "$2"); ((n == 0)); }

# bl_byline_start LOGFILE [NAME=VALUE...]: starts byline in the background
# with the topics of this test (BL_IN, BL_OUT, BL_DLQ, BL_GROUP must be
# set) plus the given variables. Sets BL_BYLINE_PID.
bl_byline_start() {
  BL_BYLINE_LOG=$1
  shift
  [[ -n "$BL_BYLINE_PID" ]] && bl_fail "bl_byline_start: byline already running"
  # The harness's own BYLINE_* variables are not byline's: keep them out
  # (byline warns about unknown BYLINE_* names).
  env -u BYLINE_BIN -u BYLINE_BUILD_DIR -u BYLINE_SOURCE_DIR -u BYLINE_SHARED_DIR \
    -u BYLINE_TOOLS_DIR -u BYLINE_TEST_BROKERS \
    BYLINE_BROKERS="$BL_BROKERS" \
    BYLINE_GROUP_ID="$BL_GROUP" \
    BYLINE_INPUT_TOPIC="$BL_IN" \
    BYLINE_OUTPUT_TOPIC="$BL_OUT" \
    BYLINE_DLQ_TOPIC="$BL_DLQ" \
    BYLINE_KAFKA_AUTO_OFFSET_RESET=earliest \
    BYLINE_LOG_LEVEL="${BL_LOG_LEVEL:-info}" \
    "$@" "$BYLINE_BIN" >>"$BL_BYLINE_LOG.stdout" 2>>"$BL_BYLINE_LOG" </dev/null &
  BL_BYLINE_PID=$!
  bl_log "byline started (pid $BL_BYLINE_PID, log $BL_BYLINE_LOG)"
}

# bl_byline_stop SIGNAL [TIMEOUT_S]: signals byline and waits (bounded) for
# it to exit; sets BL_BYLINE_RC. A byline that outlives TIMEOUT_S is killed
# and the test fails.
bl_byline_stop() {
  local sig=$1 timeout_s=${2:-60} deadline
  [[ -n "$BL_BYLINE_PID" ]] || bl_fail "bl_byline_stop: byline is not running"
  kill "-$sig" "$BL_BYLINE_PID" 2>/dev/null
  deadline=$((SECONDS + timeout_s))
  while kill -0 "$BL_BYLINE_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$BL_BYLINE_PID" 2>/dev/null; then
    kill -KILL "$BL_BYLINE_PID" 2>/dev/null
    wait "$BL_BYLINE_PID" 2>/dev/null
    BL_BYLINE_PID=
    bl_fail "byline did not exit within ${timeout_s}s of SIG$sig"
  fi
  wait "$BL_BYLINE_PID" 2>/dev/null
  BL_BYLINE_RC=$?
  BL_BYLINE_PID=
  bl_log "byline exited with status $BL_BYLINE_RC after SIG$sig"
}

# bl_consume TOPIC EXPECT OUTFILE [ARGS...]: reads TOPIC from the beginning
# into OUTFILE (see bl_kafkatool consume); fails the test unless EXPECT
# messages arrive within BL_IT_TIMEOUT_S.
bl_consume() {
  local topic=$1 expect=$2 out=$3
  shift 3
  # Every record read from an output topic is checked against the schema.
  local jsonl=()
  [[ "$topic" == "${BL_OUT:-}" ]] && jsonl=(--jsonl "$out.jsonl")
  "$BL_TOOL" consume -b "$BL_BROKERS" -t "$topic" --expect "$expect" \
    --timeout-ms $((BL_IT_TIMEOUT_S * 1000)) "${jsonl[@]}" "$@" >"$out"
  local rc=$?
  [[ $rc -eq 0 ]] || bl_fail "reading $topic: got $(wc -l <"$out") of $expect messages (bl_kafkatool status $rc)"
  if ((${#jsonl[@]})); then
    python3 "$BYLINE_SOURCE_DIR/tests/integration/validate_records.py" \
      "$BYLINE_SOURCE_DIR/config/record.schema.json" "$out.jsonl" >&2 ||
      bl_fail "records in $topic do not match config/record.schema.json"
  fi
}

# bl_check_generated GEN_TSV OUT_TSV ALLOW_DUPLICATES: every generated id
# (GEN_TSV: "id<TAB>date") appears in OUT_TSV (consume output) with its
# date and the right published.from (odd ids were JSON envelopes, even ids
# raw text with a date header). Prints counts; fails the test on a missing
# id, a wrong date or source, or (unless allowed) a duplicate.
bl_check_generated() {
  local gen=$1 out=$2 allow_dups=$3 report
  report=$(awk -F'\t' -v allow_dups="$allow_dups" '
    NR == FNR { want[$1] = $2; n_want++; next }
    ($3 in want) {
      seen[$3]++
      if (seen[$3] == 1) {
        num = $3; sub(/^.*-0*/, "", num)
        from_want = (num % 2) ? "envelope" : "header"
        if ($4 != want[$3]) { bad_date++; if (bad_date <= 5) ex = ex "\n  " $3 ": date " $4 ", expected " want[$3] }
        if ($5 != from_want) { bad_from++; if (bad_from <= 5) ex = ex "\n  " $3 ": published.from " $5 ", expected " from_want }
      }
      next
    }
    { other++ }
    END {
      for (id in want) {
        if (!(id in seen)) { missing++; if (missing <= 5) ex = ex "\n  missing " id }
        else if (seen[id] > 1) { dup_ids++; dups += seen[id] - 1 }
      }
      printf "generated=%d distinct_found=%d missing=%d duplicate_ids=%d extra_copies=%d wrong_date=%d wrong_from=%d other_records=%d%s\n",
        n_want, n_want - missing, missing + 0, dup_ids + 0, dups + 0, bad_date + 0, bad_from + 0, other + 0, ex
      if (missing || bad_date || bad_from || (dups && !allow_dups)) exit 1
    }' "$gen" "$out")
  local rc=$?
  echo "$report"
  [[ $rc -eq 0 ]] || bl_fail "output check failed: ${report%%$'\n'*}"
}

# bl_restart_scenario SIGNAL ALLOW_DUPLICATES: N generated articles; byline
# is stopped with SIGNAL once some (not all) output exists, restarted, and
# must then finish: no id missing; duplicates fail unless allowed.
bl_restart_scenario() {
  local sig=$1 allow_dups=$2 n=${BL_RESTART_COUNT:-4000} at_signal after_stop lag t0
  BL_IN=$(bl_topic in) BL_OUT=$(bl_topic out) BL_DLQ=$(bl_topic dlq) BL_GROUP="it-$BL_TEST_NAME-$BL_RUN_ID"
  bl_create_topic "$BL_IN" 4
  bl_create_topic "$BL_OUT" 4
  bl_create_topic "$BL_DLQ" 1
  "$BL_TOOL" produce-gen -b "$BL_BROKERS" -t "$BL_IN" -n "$n" --seed 23 >"$BL_WORK/gen.tsv" ||
    bl_fail "producing $n generated articles failed"
  bl_log "produced $n generated articles to $BL_IN"

  t0=$SECONDS
  # A short session: the killed member leaves the group sooner.
  bl_byline_start "$BL_WORK/byline.1.log" BYLINE_KAFKA_SESSION_TIMEOUT_MS=6000
  bl_wait_for "first records in $BL_OUT" "$BL_IT_TIMEOUT_S" bl_count_at_least "$BL_OUT" 200
  at_signal=$(bl_count "$BL_OUT")
  bl_log "sending SIG$sig with $at_signal records out after $((SECONDS - t0))s"
  bl_byline_stop "$sig" 60
  after_stop=$(bl_count "$BL_OUT")
  lag=$(bl_lag "$BL_IN" "$BL_GROUP")
  bl_log "after SIG$sig: status $BL_BYLINE_RC, $after_stop records out, $lag input messages uncommitted"
  if [[ $sig == TERM ]]; then
    [[ $BL_BYLINE_RC -eq 0 ]] || bl_fail "byline exited with status $BL_BYLINE_RC after SIGTERM (want 0)"
  else
    [[ $BL_BYLINE_RC -ne 0 ]] || bl_fail "byline exited 0 after SIG$sig: was it killed at all?"
  fi
  if ((after_stop >= n)); then
    bl_log "WARNING: byline had finished all $n before the signal took effect; the restart checks are weak this run"
  fi

  bl_byline_start "$BL_WORK/byline.2.log" BYLINE_KAFKA_SESSION_TIMEOUT_MS=6000
  bl_wait_for "group $BL_GROUP to commit all of $BL_IN" "$BL_IT_TIMEOUT_S" bl_lag_is_zero "$BL_IN" "$BL_GROUP"
  bl_byline_stop TERM 60
  [[ $BL_BYLINE_RC -eq 0 ]] || bl_fail "restarted byline exited with status $BL_BYLINE_RC after SIGTERM (want 0)"

  bl_consume "$BL_OUT" "$n" "$BL_WORK/out.tsv"
  bl_log "records out: $(wc -l <"$BL_WORK/out.tsv"), dead-lettered: $(bl_count "$BL_DLQ")"
  bl_check_generated "$BL_WORK/gen.tsv" "$BL_WORK/out.tsv" "$allow_dups"
}
