#!/usr/bin/env bash
# Fault injection with librdkafka's mock cluster: produce errors and leader
# moves, brokers down and slow, commit/fetch errors, SIGKILL and restart.
# The real byline binary runs against it; every input id must come out.
set -uo pipefail
: "${BYLINE_BIN:?BYLINE_BIN is not set (run through ctest or tests/run.sh)}"
: "${BYLINE_TOOLS_DIR:?BYLINE_TOOLS_DIR is not set}"
tool="$BYLINE_TOOLS_DIR/bl_mockfault"
[[ -x "$tool" ]] || { echo "FAIL: $tool is missing (build the tests)" >&2; exit 1; }
n=${BYLINE_FAULT_N:-3000}
passed=0 failed=0
for scenario in produce-errors broker-down commit-errors kill-restart; do
  work=$(mktemp -d /tmp/byline-fault.XXXXXX)
  if timeout 300 "$tool" "$BYLINE_BIN" "$scenario" "$n" 180 "$work"; then
    passed=$((passed + 1)); rm -rf "$work"
  else
    failed=$((failed + 1))
    echo "--- $scenario: last lines of byline's log ($work/byline.log):" >&2
    tail -20 "$work/byline.log" >&2
  fi
done
echo "$passed passed, $failed failed"
((failed == 0))
