#!/usr/bin/env bash
# The README's variable table is the one `byline --config-table` prints
# from the config table itself: this fails when they drift apart.
set -euo pipefail
: "${BYLINE_BIN:?BYLINE_BIN is not set (run through ctest or tests/run.sh)}"
: "${BYLINE_SOURCE_DIR:?BYLINE_SOURCE_DIR is not set}"
readme="$BYLINE_SOURCE_DIR/README.md"
want=$("$BYLINE_BIN" --config-table)
have=$(sed -n '/<!-- config-table:begin -->/,/<!-- config-table:end -->/p' "$readme" | sed '1d;$d')
if [[ "$want" != "$have" ]]; then
  echo "FAIL: README.md's variable table differs from \`byline --config-table\`:" >&2
  diff <(echo "$have") <(echo "$want") >&2 || true
  echo "Regenerate it: build/byline --config-table, between the config-table markers." >&2
  exit 1
fi
echo "README table matches byline --config-table ($(grep -c '^| `BYLINE_' <<<"$want") variables)"
