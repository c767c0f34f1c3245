# Helpers for the operations tests (health, metrics, several replicas).
# Sourced after lib.sh, not run. Every wait is bounded.
#
# Several byline processes: bl_ops_start NAME LOG [NAME=VALUE...] starts one
# (through lib.sh's bl_byline_start, so it gets this test's topics and
# group) with BYLINE_HTTP_ADDR on a free loopback port, and waits until its
# /healthz answers. The processes are tracked by NAME (BL_OPS_PID[NAME],
# BL_OPS_PORT[NAME], BL_OPS_LOG[NAME]); bl_ops_fail shows the tail of every
# log; all still running are killed (by pid) when the test exits.
# shellcheck shell=bash

command -v curl >/dev/null 2>&1 || { echo "curl is needed by $BL_TEST_NAME" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "python3 is needed by $BL_TEST_NAME" >&2; exit 1; }

declare -A BL_OPS_PID=() BL_OPS_PORT=() BL_OPS_LOG=()
BL_OPS_NAMES=()
BL_OPS_HELPER_PIDS=() # other background processes of the test (killed at exit)

# bl_ops_free_port: a loopback TCP port nobody listens on now (the kernel's
# choice for port 0; it could be taken again before use, which bl_ops_start
# handles by retrying with another port).
bl_ops_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# bl_ops_show_logs: the tail of every byline log, on stderr.
bl_ops_show_logs() {
  local name
  BL_OPS_LOGS_SHOWN=1
  for name in "${BL_OPS_NAMES[@]}"; do
    if [[ -s "${BL_OPS_LOG[$name]}" ]]; then
      echo "--- last lines of byline '$name' (${BL_OPS_LOG[$name]}):" >&2
      tail -n 25 "${BL_OPS_LOG[$name]}" | cut -c1-400 >&2
    fi
  done
}
# bl_ops_fail MESSAGE: fails the test showing the tail of every byline log.
bl_ops_fail() {
  bl_ops_show_logs
  BL_BYLINE_LOG=
  bl_fail "$@"
}
BL_OPS_LOGS_SHOWN=0

bl_ops_cleanup() {
  local rc=$? name pid
  # A failure reported by a lib.sh helper: show every log, not just the last.
  if [[ $rc -ne 0 && $BL_OPS_LOGS_SHOWN -eq 0 ]]; then bl_ops_show_logs; fi
  for name in "${BL_OPS_NAMES[@]}"; do
    pid=${BL_OPS_PID[$name]:-}
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  for pid in "${BL_OPS_HELPER_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  (exit "$rc")
  bl_cleanup
}
trap bl_ops_cleanup EXIT

# bl_ops_http PORT PATH [OUTFILE]: GETs http://127.0.0.1:PORT/PATH; prints
# the status code (000 when nothing answered) and writes the body to OUTFILE.
bl_ops_http() {
  local out=${3:-/dev/null}
  curl -s -o "$out" -w '%{http_code}' --connect-timeout 5 --max-time 15 "http://127.0.0.1:$1$2" 2>/dev/null ||
    true
}

# bl_ops_scrape NAME OUTFILE: /metrics of byline NAME into OUTFILE (fails the test unless 200).
bl_ops_scrape() {
  local code
  code=$(bl_ops_http "${BL_OPS_PORT[$1]}" /metrics "$2")
  [[ $code == 200 ]] || bl_ops_fail "GET /metrics of byline '$1' answered $code"
}

# bl_ops_metric FILE SERIES: the value of SERIES (name with its labels
# exactly as rendered, e.g. 'byline_dead_lettered_total{reason="empty"}')
# in a scrape; prints nothing when the series is absent.
bl_ops_metric() {
  awk -v s="$2" '$1 == s { print $2; exit }' "$1"
}

# bl_ops_lag_partitions FILE TOPIC: the partitions of TOPIC that have a
# byline_consumer_lag series in a scrape, one per line, sorted.
bl_ops_lag_partitions() {
  awk -v p="byline_consumer_lag{topic=\"$2\",partition=\"" '
    index($1, p) == 1 { v = substr($1, length(p) + 1); sub(/".*/, "", v); print v }' "$1" | sort -n
}

# bl_ops_assigned LOG: how many input partitions byline holds now according
# to its log (sum of "assigned N" minus "revoked N" rebalance lines; right
# for eager and cooperative assignment alike).
bl_ops_assigned() {
  grep -F '"event":"rebalance"' "$1" 2>/dev/null |
    sed -n 's/.*"msg":"\(assigned\|revoked\) \([0-9][0-9]*\) partition(s).*/\1 \2/p' |
    awk '$1 == "assigned" { n += $2 } $1 == "revoked" { n -= $2 } END { print n + 0 }'
}

# bl_ops_alive_check: fails the test if a byline that should run has exited.
bl_ops_alive_check() {
  local name pid rc
  for name in "${BL_OPS_NAMES[@]}"; do
    pid=${BL_OPS_PID[$name]:-}
    [[ -n "$pid" ]] || continue
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      rc=$?
      BL_OPS_PID[$name]=
      bl_ops_fail "byline '$name' (pid $pid) exited with status $rc unexpectedly"
    fi
  done
}

# bl_ops_wait_for DESCRIPTION TIMEOUT_S COMMAND...: like bl_wait_for, for
# any number of byline processes (stops early if one of them exited).
bl_ops_wait_for() {
  local desc=$1 timeout_s=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout_s))
  while ((SECONDS < deadline)); do
    "$@" && return 0
    bl_ops_alive_check
    sleep 0.25
  done
  bl_ops_fail "timed out after ${timeout_s}s waiting for: $desc"
}

# bl_ops_start NAME LOG [NAME=VALUE...]: starts byline NAME with an HTTP
# server on a free loopback port and waits (bounded) until /healthz answers
# 200. A port taken in between (byline exits 2, "cannot listen") is retried
# with another port, a few times.
bl_ops_start() {
  local name=$1 log=$2 attempt port pid code rc deadline
  shift 2
  [[ -n "${BL_OPS_PID[$name]:-}" ]] && bl_ops_fail "bl_ops_start: byline '$name' already running"
  [[ -n "${BL_OPS_LOG[$name]:-}" ]] || BL_OPS_NAMES+=("$name")
  for ((attempt = 1; attempt <= 4; attempt++)); do
    port=$(bl_ops_free_port) || bl_ops_fail "no free loopback port"
    BL_OPS_LOG[$name]=$log
    BL_BYLINE_PID=
    bl_byline_start "$log" BYLINE_HTTP_ADDR="127.0.0.1:$port" "$@"
    pid=$BL_BYLINE_PID
    BL_BYLINE_PID=
    BL_OPS_PID[$name]=$pid
    BL_OPS_PORT[$name]=$port
    deadline=$((SECONDS + 90))
    while ((SECONDS < deadline)); do
      code=$(bl_ops_http "$port" /healthz)
      [[ $code == 200 ]] && { bl_log "byline '$name' (pid $pid) serves HTTP on 127.0.0.1:$port"; return 0; }
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      bl_ops_fail "byline '$name' did not answer /healthz on port $port within 90s (last status $code)"
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    BL_OPS_PID[$name]=
    if [[ $rc -eq 2 ]] && grep -q "cannot listen on 127.0.0.1:$port" "$log"; then
      bl_log "port $port was taken before byline bound it; trying another"
      continue
    fi
    bl_ops_fail "byline '$name' exited with status $rc before answering /healthz"
  done
  bl_ops_fail "byline '$name': no free HTTP port after 4 attempts"
}

# bl_ops_stop NAME SIGNAL [TIMEOUT_S]: signals byline NAME and waits
# (bounded) for it to exit; sets BL_OPS_RC. Killed and failed past TIMEOUT_S.
bl_ops_stop() {
  local name=$1 sig=$2 timeout_s=${3:-60} pid deadline
  pid=${BL_OPS_PID[$name]:-}
  [[ -n "$pid" ]] || bl_ops_fail "bl_ops_stop: byline '$name' is not running"
  kill "-$sig" "$pid" 2>/dev/null
  deadline=$((SECONDS + timeout_s))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    BL_OPS_PID[$name]=
    bl_ops_fail "byline '$name' did not exit within ${timeout_s}s of SIG$sig"
  fi
  wait "$pid" 2>/dev/null
  BL_OPS_RC=$?
  BL_OPS_PID[$name]=
  bl_log "byline '$name' exited with status $BL_OPS_RC after SIG$sig"
}
