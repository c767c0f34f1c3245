#!/usr/bin/env bash
# A bad configuration value stops byline at start-up: exit status 2 and one
# line on stderr that names the variable (and, for librdkafka properties,
# shows librdkafka's own error text).
source "$(dirname "$0")/lib.sh"

help=$(timeout 20 "$BYLINE_BIN" --help 2>&1)
rc=$?
[[ $rc -eq 0 ]] || bl_fail "byline --help exited with status $rc (want 0)"
for v in BYLINE_BROKERS BYLINE_MAX_MESSAGE_BYTES BYLINE_SHUTDOWN_TIMEOUT_MS BYLINE_LOG_LEVEL BYLINE_KAFKA_; do
  grep -q "$v" <<<"$help" || bl_fail "byline --help does not mention $v"
done

failures=0
# check NAME_IN_MESSAGE EXTRA_TEXT VAR=VALUE... : runs byline with a clean
# environment plus the given variables (BYLINE_BROKERS is set unless the
# list contains "-BYLINE_BROKERS").
check() {
  local name=$1 text=$2 err rc lines
  shift 2
  local vars=(PATH="$PATH" BYLINE_CONFIG_DIR="$BYLINE_CONFIG_DIR" BYLINE_BROKERS="$BL_BROKERS"
    BYLINE_INPUT_TOPIC="$(bl_topic none)" BYLINE_GROUP_ID="it-config-$BL_RUN_ID")
  if [[ ${1:-} == -BYLINE_BROKERS ]]; then
    vars=("${vars[@]:0:2}" "${vars[@]:3}")
    shift
  fi
  err=$(timeout 30 env -i "${vars[@]}" "$@" "$BYLINE_BIN" 2>&1 >/dev/null)
  rc=$?
  lines=$(grep -c . <<<"$err")
  local problem=
  if [[ $rc -eq 124 ]]; then
    problem="did not exit within 30 s"
  elif [[ $rc -ne 2 ]]; then
    problem="exit status $rc, want 2"
  fi
  grep -q -- "$name" <<<"$err" || problem="${problem:+$problem; }stderr does not name $name"
  [[ -z $text ]] || grep -qi -- "$text" <<<"$err" || problem="${problem:+$problem; }stderr lacks \"$text\""
  [[ $lines -eq 1 ]] || problem="${problem:+$problem; }$lines stderr lines, want 1"
  if [[ -n $problem ]]; then
    echo "  BAD  $* : $problem" >&2
    head -n 5 <<<"$err" | cut -c1-300 | sed 's/^/         stderr: /' >&2
    failures=$((failures + 1))
  else
    echo "  ok   ${*:-BYLINE_BROKERS unset} : $err" | cut -c1-240 >&2
  fi
}

check BYLINE_BROKERS "" -BYLINE_BROKERS
check BYLINE_BROKERS "" BYLINE_BROKERS=
check BYLINE_MAX_MESSAGE_BYTES "" BYLINE_MAX_MESSAGE_BYTES=abc
check BYLINE_MAX_MESSAGE_BYTES "" BYLINE_MAX_MESSAGE_BYTES=-1
check BYLINE_SHUTDOWN_TIMEOUT_MS "" BYLINE_SHUTDOWN_TIMEOUT_MS=x
check BYLINE_LOG_LEVEL "" BYLINE_LOG_LEVEL=loud
check BYLINE_KAFKA_NO_SUCH_PROPERTY "No such configuration property" BYLINE_KAFKA_NO_SUCH_PROPERTY=1
check BYLINE_KAFKA_ACKS "Invalid value" BYLINE_KAFKA_ACKS=banana
check BYLINE_WORKERS "" BYLINE_WORKERS=many
check BYLINE_DLQ_MAX_VALUE_BYTES "" BYLINE_DLQ_MAX_VALUE_BYTES=1
check BYLINE_REVOKE_TIMEOUT_MS "" BYLINE_REVOKE_TIMEOUT_MS=-5
check BYLINE_CONFIG_DIR "" BYLINE_CONFIG_DIR=/nonexistent/byline-config
check BYLINE_HTTP_ADDR "" BYLINE_HTTP_ADDR=not-an-address
check BYLINE_KAFKA_SASL_PASSWORD_FILE "" BYLINE_KAFKA_SASL_PASSWORD_FILE=/nonexistent/secret
check BYLINE_WEBHOOK_HOOK_URL "" BYLINE_WEBHOOK_HOOK_URL=ftp://127.0.0.1/x
check BYLINE_WEBHOOK_HOOK_TIMEOUT_MS "" BYLINE_WEBHOOK_HOOK_URL=http://127.0.0.1:9/x BYLINE_WEBHOOK_HOOK_TIMEOUT_MS=soon
check BYLINE_WEBHOOK_HOOK_SECRET "" BYLINE_WEBHOOK_HOOK_URL=http://127.0.0.1:9/x BYLINE_WEBHOOK_HOOK_SECRET=not-a-whsec

((failures == 0)) || bl_fail "$failures bad configurations were not rejected as the contract says"
bl_log "PASS: every bad value rejected with status 2 and one line naming the variable"
