#!/usr/bin/env bash
# BYLINE_ENTITIES_TOPIC on a real broker: the five samples and N generated
# articles through byline; every entity of every record arrives on the
# entities topic exactly once (keyed by its Wikidata id, else its name, and
# naming its article), nothing else does, and a SIGTERM commits everything.
source "$(dirname "$0")/lib.sh"

N=${BL_ENTITIES_COUNT:-500}
BL_IN=$(bl_topic in) BL_OUT=$(bl_topic out) BL_DLQ=$(bl_topic dlq) BL_GROUP="it-ents-$BL_RUN_ID"
BL_ENTS=$(bl_topic ents)
bl_create_topic "$BL_IN" 4
bl_create_topic "$BL_OUT" 4
bl_create_topic "$BL_DLQ" 1
bl_create_topic "$BL_ENTS" 4

samples=("$BYLINE_SHARED_DIR"/samples/*.txt)
[[ ${#samples[@]} -eq 5 && -f ${samples[0]} ]] || bl_fail "expected 5 samples in $BYLINE_SHARED_DIR/samples"
"$BL_TOOL" produce-file -b "$BL_BROKERS" -t "$BL_IN" "${samples[@]}" >/dev/null ||
  bl_fail "producing the samples failed"
"$BL_TOOL" produce-gen -b "$BL_BROKERS" -t "$BL_IN" -n "$N" --seed 23 >"$BL_WORK/gen.tsv" ||
  bl_fail "producing $N generated articles failed"

bl_byline_start "$BL_WORK/byline.log" BYLINE_ENTITIES_TOPIC="$BL_ENTS"
bl_wait_for "$((N + 5)) records in $BL_OUT" "$BL_IT_TIMEOUT_S" bl_count_at_least "$BL_OUT" $((N + 5))
bl_byline_stop TERM 60
[[ $BL_BYLINE_RC -eq 0 ]] || bl_fail "byline exited with status $BL_BYLINE_RC after SIGTERM (want 0)"
lag=$(bl_lag "$BL_IN" "$BL_GROUP")
[[ $lag -eq 0 ]] || bl_fail "after a clean shutdown $lag input messages are not committed"

bl_consume "$BL_OUT" $((N + 5)) "$BL_WORK/out.tsv"
want=$(python3 -c 'import json,sys; print(sum(len(json.loads(l)["entities"]) for l in open(sys.argv[1])))' "$BL_WORK/out.tsv.jsonl") ||
  bl_fail "cannot count the entities of the output records"
((want > N)) || bl_fail "only $want entities in $((N + 5)) records: the generated articles name people and places"
"$BL_TOOL" consume -b "$BL_BROKERS" -t "$BL_ENTS" --expect "$want" --timeout-ms $((BL_IT_TIMEOUT_S * 1000)) \
  --headers --jsonl "$BL_WORK/ents.jsonl" >"$BL_WORK/ents.tsv" ||
  bl_fail "reading $BL_ENTS: got $(wc -l <"$BL_WORK/ents.tsv") of $want entity messages"
have=$(bl_count "$BL_ENTS")
[[ $have -eq $want ]] || bl_fail "$BL_ENTS holds $have messages, want exactly $want (one per entity per record)"
python3 "$BYLINE_SOURCE_DIR/tests/integration/check_entity_messages.py" \
  "$BL_WORK/out.tsv.jsonl" "$BL_WORK/ents.jsonl" "$BL_WORK/ents.tsv" >&2 ||
  bl_fail "entity messages do not match the records' entities"
bl_log "PASS: $want entity messages for $((N + 5)) records, each entity exactly once"
