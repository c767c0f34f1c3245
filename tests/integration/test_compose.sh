#!/usr/bin/env bash
# Checks the deployment files without a Docker engine:
#  1. docker-compose (Debian's package) validates deploy/docker-compose.yml,
#     and the rendered config has what operators rely on (topics, scaling);
#  2. the Dockerfile's build line (cmake configure/build/install) is run as
#     written, into a temp dir, and the staged tree holds what the final
#     image copies; the staged binary starts.
set -euo pipefail

src="${BYLINE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
compose="$src/deploy/docker-compose.yml"
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v docker-compose >/dev/null 2>&1 ||
    fail "docker-compose is not installed (Debian: apt-get install docker-compose); cannot validate $compose"

# ---- 1. compose file ----
rendered="$(docker-compose -f "$compose" config)" || fail "docker-compose config rejected $compose"
services="$(docker-compose -f "$compose" config --services)"
for service in kafka topics byline receiver loader; do
    grep -qx "$service" <<<"$services" || fail "service '$service' missing from $compose"
done
for topic in "articles.raw 6" "articles.enriched" "articles.dlq" "articles.webhooks.dlq"; do
    grep -q "create $topic" <<<"$rendered" || fail "topics service does not create '$topic'"
done
# --scale byline=N needs no container_name and no fixed host port on byline.
byline_block="$(awk '/^  byline:/{on=1; print; next} on && /^  [a-z]/{exit} on' <<<"$rendered")"
[ -n "$byline_block" ] || fail "cannot find the byline service in the rendered config"
grep -q 'container_name' <<<"$byline_block" && fail "byline has a container_name; --scale would fail"
grep -q 'published:' <<<"$byline_block" && fail "byline publishes a fixed host port; --scale would collide"
grep -q 'BYLINE_BROKERS: kafka:9092' <<<"$byline_block" || fail "byline does not get BYLINE_BROKERS from .env.example"
grep -q 'service_completed_successfully' <<<"$byline_block" || fail "byline does not wait for the topics service"
# Every env file the stack reads must exist; a missing one fails only at 'up'.
[ -f "$src/deploy/.env.example" ] || fail "deploy/.env.example missing"
for dockerfile in "$src/Dockerfile" "$src/deploy/receiver/Dockerfile" "$src/deploy/loader/Dockerfile"; do
    [ -f "$dockerfile" ] || fail "$dockerfile missing"
done
echo "ok: docker-compose config"

# ---- 2. the Dockerfile's build line, run as written ----
build_line="$(grep -E '^RUN cmake -S \. -B /build' "$src/Dockerfile")" ||
    fail "Dockerfile has no 'RUN cmake -S . -B /build ...' line to check"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Same commands; only /build and /stage move to the temp dir, and -j is
# capped at 2 jobs for the shared test machines.
cmd="${build_line#RUN }"
cmd="${cmd//\/build/$tmp/build}"
cmd="${cmd//DESTDIR=\/stage/DESTDIR=$tmp/stage}"
cmd="${cmd//--build $tmp\/build -j /--build $tmp/build -j2 }"
echo "+ $cmd"
(cd "$src" && eval "$cmd" >"$tmp/build.log" 2>&1) || {
    tail -40 "$tmp/build.log" >&2
    fail "the Dockerfile's build line failed (log above)"
}
[ -x "$tmp/stage/usr/bin/byline" ] || fail "install did not stage /usr/bin/byline (the final stage copies it)"
[ -d "$tmp/stage/usr/share/byline" ] || fail "install did not stage /usr/share/byline (the final stage copies it)"
ls "$tmp/stage/usr/share/byline"/demo/*.txt >/dev/null 2>&1 ||
    fail "/usr/share/byline has no demo articles"
grep -q '/usr/share/byline' "$tmp/build/CMakeCache.txt" ||
    fail "BYLINE_DEFAULT_CONFIG_DIR=/usr/share/byline did not reach the build"
"$tmp/stage/usr/bin/byline" --help >"$tmp/help.txt" 2>&1 ||
    fail "the staged binary does not run: byline --help failed: $(head -5 "$tmp/help.txt")"
# Plain BYLINE_ variables in .env.example must be ones byline knows (a typo
# there is silently ignored in production). Pass-through and per-endpoint
# families are patterns, not table rows.
while IFS='=' read -r name _; do
    case "$name" in
    BYLINE_KAFKA_* | BYLINE_WEBHOOK_* | *_FILE) continue ;;
    esac
    grep -q "$name" "$tmp/help.txt" || fail ".env.example sets $name, which 'byline --help' does not list"
done < <(grep -E '^BYLINE_[A-Z0-9_]+=' "$src/deploy/.env.example")
echo "ok: Dockerfile build line ($tmp/stage/usr/bin/byline)"
