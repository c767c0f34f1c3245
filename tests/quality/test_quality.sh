#!/usr/bin/env bash
# Quality gate: runs `byline enrich` over the MEANTIME dev set and the five
# samples, scores the records against gold (tests/quality/score.py) and fails
# when a figure drops below tests/quality/floors.json. Nothing is skipped:
# a missing binary, data set, gold file or python module is a failure.
set -u -o pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="${BYLINE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}"
shared="${BYLINE_SHARED_DIR:-$src/../shared}"
bin="${BYLINE_BIN:-}"

fail() {
    echo "test_quality: $*" >&2
    echo "0 passed, 1 failed"
    exit 1
}

[ -n "$bin" ] && [ -x "$bin" ] || fail "BYLINE_BIN is not an executable byline binary: '${bin}'"
command -v python3 >/dev/null || fail "python3 is not installed"
meantime="$shared/data/meantime-dev"
samples="$shared/samples"
gold_samples="$here/gold"
[ -d "$meantime" ] || fail "no MEANTIME dev set at $meantime"
[ -d "$samples" ] || fail "no samples at $samples"

schema_args=()
if [ -f "$src/config/record.schema.json" ]; then
    python3 -c 'import jsonschema' 2>/dev/null ||
        fail "python3 jsonschema is missing (apt-get install -y python3-jsonschema)"
    schema_args=(--schema "$src/config/record.schema.json")
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The inputs of a set: every TXT with a gold file, sorted as score.py sorts.
inputs() { # txt_dir gold_dir
    local f name
    for f in "$1"/*.txt; do
        name="$(basename "$f" .txt)"
        [ -f "$2/$name.gold.json" ] && printf '%s\n' "$f"
    done | LC_ALL=C sort
}

run_set() { # name txt_dir gold_dir
    local list="$work/$1.list"
    inputs "$2" "$3" >"$list"
    [ -s "$list" ] || fail "$1: no input with a gold file in $2"
    local want
    want="$(wc -l <"$list")"
    # Records go to stdout; logs to stderr (kept for the failure message).
    if ! tr '\n' '\0' <"$list" | xargs -0 "$bin" enrich >"$work/$1.jsonl" 2>"$work/$1.err"; then
        tail -n 20 "$work/$1.err" >&2
        fail "$1: '$bin enrich' failed"
    fi
    local got
    got="$(grep -c . "$work/$1.jsonl" || true)"
    [ "$got" = "$want" ] || { tail -n 20 "$work/$1.err" >&2; fail "$1: $got records for $want inputs"; }
}

for name in $(ls "$samples" | sed -n 's/\.txt$//p'); do
    [ -f "$gold_samples/$name.gold.json" ] || fail "no gold file for sample $name in $gold_samples"
done

run_set meantime "$meantime" "$meantime"
run_set samples "$samples" "$gold_samples"

# MEANTIME gold covers the headline and the first four sentences only.
python3 "$here/score.py" "${schema_args[@]}" --floors "$here/floors.json" --scope meantime=4 \
    --set meantime "$meantime" "$meantime" "$work/meantime.jsonl" \
    --set samples "$samples" "$gold_samples" "$work/samples.jsonl"
