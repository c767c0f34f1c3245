#!/bin/sh
# Produces every /demo/*.txt (or LOADER_DIR/*.txt) as one message, keyed by
# its file name, LOADER_REPEAT times (default 1), then exits.
set -eu
brokers="${BYLINE_BROKERS:-kafka:9092}"
topic="${BYLINE_INPUT_TOPIC:-articles.raw}"
dir="${LOADER_DIR:-/demo}"
repeat="${LOADER_REPEAT:-1}"

sent=0
round=1
while [ "$round" -le "$repeat" ]; do
    for file in "$dir"/*.txt; do
        [ -e "$file" ] || { echo "loader: no .txt files in $dir" >&2; exit 1; }
        key="$(basename "$file" .txt)"
        # A file argument makes kcat send the whole file as one message.
        kcat -P -b "$brokers" -t "$topic" -k "$key" -X acks=all "$file"
        sent=$((sent + 1))
    done
    round=$((round + 1))
done
echo "loader: sent $sent articles to $topic on $brokers"
