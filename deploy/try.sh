#!/usr/bin/env bash
# One command to try byline on a fresh Debian machine: installs what is
# missing, builds, and runs `byline demo` (an in-process Kafka cluster fed
# with the demo articles; prints the enriched records; keeps nothing).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/deploy/install-deps.sh" build
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target byline >/dev/null
exec "$root/build/byline" demo "$@"
