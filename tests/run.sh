#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what is
# missing, builds byline twice (plain, and with ASan+UBSan), starts a real
# Kafka broker (KRaft) on loopback, and runs every ctest test against both
# builds. BYLINE_TEST_BROKERS=host:port uses an existing broker instead.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh test

jobs=$(nproc)
build() { # dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" 2>&1 | grep -vE '^\[|^-- ' || true
  [[ -x "$dir/byline" ]] || { echo "run.sh: build in $dir failed" >&2; exit 1; }
}
build build
build build-asan -DBYLINE_SANITIZE=ON

workdir=$(mktemp -d /tmp/byline-test.XXXXXX)
if [[ -z "${BYLINE_TEST_BROKERS:-}" ]]; then
  trap 'bash tests/kafka/broker.sh stop "$workdir" >/dev/null 2>&1 || true; rm -rf "$workdir"' EXIT
  BYLINE_TOOLS_DIR="$root/build/tests" BYLINE_TEST_BROKERS=$(bash tests/kafka/broker.sh start "$workdir")
  export BYLINE_TEST_BROKERS
fi
echo "run.sh: Kafka broker at $BYLINE_TEST_BROKERS"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
echo "run.sh: === plain build ==="
ctest --test-dir build --output-on-failure --timeout 600 || status=1
echo "run.sh: === AddressSanitizer + UndefinedBehaviorSanitizer build ==="
# The sanitizers look for memory and undefined-behaviour errors, not for
# volume: the same tests run with smaller article counts (the plain pass
# above runs the full 10,000). test_compose checks files and the
# Dockerfile's build steps, not byline's run time, so it runs once.
BL_E2E_COUNT=2000 BL_WEBHOOK_COUNT=2000 BL_RESTART_COUNT=2000 BL_SCALE_COUNT=2000 \
  ctest --test-dir build-asan --output-on-failure --timeout 900 -E 'integration/test_compose' || status=1
exit $status
