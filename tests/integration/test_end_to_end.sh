#!/usr/bin/env bash
# End to end on a real broker: the five sample articles plus 10,000
# generated ones (JSON envelopes and raw text) through byline; every
# article comes out exactly once with the right publication date, and a
# SIGTERM afterwards exits 0 with every input offset committed.
source "$(dirname "$0")/lib.sh"

N=${BL_E2E_COUNT:-10000}
BL_IN=$(bl_topic in) BL_OUT=$(bl_topic out) BL_DLQ=$(bl_topic dlq) BL_GROUP="it-e2e-$BL_RUN_ID"
bl_create_topic "$BL_IN" 4
bl_create_topic "$BL_OUT" 4
bl_create_topic "$BL_DLQ" 1

samples=("$BYLINE_SHARED_DIR"/samples/*.txt)
[[ ${#samples[@]} -eq 5 && -f ${samples[0]} ]] || bl_fail "expected 5 samples in $BYLINE_SHARED_DIR/samples, found ${#samples[@]}"
"$BL_TOOL" produce-file -b "$BL_BROKERS" -t "$BL_IN" "${samples[@]}" >"$BL_WORK/samples.tsv" ||
  bl_fail "producing the samples failed"
"$BL_TOOL" produce-gen -b "$BL_BROKERS" -t "$BL_IN" -n "$N" --seed 11 >"$BL_WORK/gen.tsv" ||
  bl_fail "producing $N generated articles failed"
bl_log "produced 5 samples and $N generated articles to $BL_IN"

t0=$SECONDS
bl_byline_start "$BL_WORK/byline.log"
bl_wait_for "$((N + 5)) records in $BL_OUT" "$BL_IT_TIMEOUT_S" bl_count_at_least "$BL_OUT" $((N + 5))
bl_log "byline wrote $((N + 5)) records in $((SECONDS - t0))s"
bl_byline_stop TERM 60
[[ $BL_BYLINE_RC -eq 0 ]] || bl_fail "byline exited with status $BL_BYLINE_RC after SIGTERM (want 0)"
lag=$(bl_lag "$BL_IN" "$BL_GROUP")
[[ $lag -eq 0 ]] || bl_fail "after a clean shutdown $lag input messages are not committed by group $BL_GROUP"

bl_consume "$BL_OUT" $((N + 5)) "$BL_WORK/out.tsv" --origin --field schema --field origin.topic --headers
dlq=$(bl_count "$BL_DLQ")
bl_log "output records: $(wc -l <"$BL_WORK/out.tsv"), dead-lettered: $dlq"
[[ $dlq -eq 0 ]] || bl_fail "$dlq valid articles went to the dead-letter topic"

bl_check_generated "$BL_WORK/gen.tsv" "$BL_WORK/out.tsv" 0

# Every record: schema v1, key = id, origin = the input topic.
bad=$(awk -F'\t' -v in_topic="$BL_IN" '$7 != "byline.article.v1" || $8 != in_topic || $9 != "@key=" $3' "$BL_WORK/out.tsv")
[[ -z $bad ]] || bl_fail "$(grep -c . <<<"$bad") records with a wrong schema, origin topic or key (want schema byline.article.v1, origin.topic $BL_IN, key = id); first: $(head -n1 <<<"$bad" | cut -c1-300)"

# Samples: found by origin partition/offset; date from their header line.
while IFS=$'\t' read -r file partition offset; do
  want_date=$(head -n1 "$file" | sed -n 's/^ *date \([0-9-]\{10\}\).*/\1/p')
  [[ -n $want_date ]] || bl_fail "no date header in $file"
  hits=$(awk -F'\t' -v o="$partition/$offset" '$6 == o' "$BL_WORK/out.tsv")
  n=$(grep -c . <<<"$hits")
  [[ $n -eq 1 ]] || bl_fail "sample $(basename "$file") ($partition/$offset) is in the output $n times, want 1"
  IFS=$'\t' read -r _ _ id date from _ <<<"$hits"
  [[ $date == "$want_date" && $from == header ]] ||
    bl_fail "sample $(basename "$file"): published $date from $from, want $want_date from header"
  [[ $id != - && -n $id ]] || bl_fail "sample $(basename "$file") has no id"
  bl_log "sample $(basename "$file"): once, id $id, published $date from header"
done <"$BL_WORK/samples.tsv"
bl_log "PASS: $N generated + 5 samples, each exactly once"
