#!/usr/bin/env bash
# Bad input never stops byline: each kind ends in exactly one place (output
# or dead-letter topic, with the expected byline.reason and the original
# key and size), and a normal article produced after all of them comes out.
source "$(dirname "$0")/lib.sh"

BL_IN=$(bl_topic in) BL_OUT=$(bl_topic out) BL_DLQ=$(bl_topic dlq) BL_GROUP="it-bad-$BL_RUN_ID"
bl_create_topic "$BL_IN" 1
bl_create_topic "$BL_OUT" 1
bl_create_topic "$BL_DLQ" 1

d=$BL_WORK/in
mkdir -p "$d"
para="The council met on Tuesday to discuss the budget for the coming year, officials said."
: >"$d/empty"
printf '  \n\t \r\n   \n' >"$d/whitespace"
printf ' date 2021-05-06 Headline with bad bytes\n\nSome text \xc3\x28 and \xff\xfe here. %s\n' "$para" >"$d/invalid_utf8"
{ printf '\x00\x01\x02\x03'; head -c 4096 /dev/urandom; printf '\x00\x00'; } >"$d/binary"
printf ' date 2021-05-06 Headline with a NUL\n\nSome text\x00with a NUL inside. %s\n' "$para" >"$d/nul_in_text"
{ printf ' date 2021-05-06 A very long article\n\n'
  yes "$para" | head -c 5242880; } >"$d/too_large"
printf '{"id":"bad-json-1","headline":"Cut short","body":"The council met on Tues' >"$d/truncated_json"
printf '[1,2]' >"$d/json_array"
printf '{"foo":1}' >"$d/json_wrong_object"
printf ' date 2022-02-30 An impossible day\n\n%s\n\n%s\n' "$para" "$para" >"$d/impossible_date"
printf 'Plain text with no header at all\n\n%s\n\n%s\n' "$para" "$para" >"$d/no_date_header"
printf ' date 2021-07-08 The last normal article\n\n%s\n\n%s\n' "$para" "$para" >"$d/final_normal"

# case, where it must end: "out:<published.from>" or "dlq:<reason>"
cases=(
  "empty dlq:empty"
  "whitespace dlq:empty"
  "invalid_utf8 dlq:invalid_utf8"
  "binary dlq:binary"
  "nul_in_text dlq:binary"
  "too_large dlq:too_large"
  "truncated_json dlq:bad_json"
  "json_array dlq:bad_envelope"
  "json_wrong_object dlq:bad_envelope"
  "impossible_date dlq:bad_date"
  "no_date_header out:kafka-timestamp"
  "final_normal out:header"
)
day_before=$(date -u +%F)
for c in "${cases[@]}"; do
  name=${c%% *}
  extra=()
  [[ $name == final_normal ]] && extra=(-H id=final-normal)
  "$BL_TOOL" produce-file -b "$BL_BROKERS" -t "$BL_IN" -p 0 -k "$name" "${extra[@]}" "$d/$name" >>"$BL_WORK/produced.tsv" ||
    bl_fail "producing $name failed"
done
day_after=$(date -u +%F)
bl_log "produced ${#cases[@]} messages (10 bad, 2 good) to $BL_IN"

bl_byline_start "$BL_WORK/byline.log"
bl_wait_for "all ${#cases[@]} input messages committed" "$BL_IT_TIMEOUT_S" bl_lag_is_zero "$BL_IN" "$BL_GROUP"
kill -0 "$BL_BYLINE_PID" 2>/dev/null || bl_fail "byline is not running after the bad input"
bl_byline_stop TERM 60
[[ $BL_BYLINE_RC -eq 0 ]] || bl_fail "byline exited with status $BL_BYLINE_RC after SIGTERM (want 0)"

n_out=$(bl_count "$BL_OUT")
n_dlq=$(bl_count "$BL_DLQ")
bl_log "output records: $n_out, dead-lettered: $n_dlq"
bl_consume "$BL_OUT" 0 "$BL_WORK/out.tsv" --origin --headers
mkdir -p "$BL_WORK/dlq"
bl_consume "$BL_DLQ" 0 "$BL_WORK/dlq.tsv" --headers --dump-dir "$BL_WORK/dlq"

# hdr FILE_LINE NAME: the value of header NAME in one consume line.
hdr() { tr '\t' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -n1; }

failures=0
for c in "${cases[@]}"; do
  name=${c%% *} want=${c#* }
  file=$d/$name
  offset=$(awk -F'\t' -v f="$file" '$1 == f {print $3}' "$BL_WORK/produced.tsv")
  size=$(stat -c %s "$file")
  out_lines=$(awk -F'\t' -v o="0/$offset" '$6 == o' "$BL_WORK/out.tsv")
  dlq_lines=$(grep -P "\tbyline\\.origin\\.offset=$offset(\t|\$)" "$BL_WORK/dlq.tsv" |
    grep -P "\tbyline\\.origin\\.topic=\\Q$BL_IN\\E(\t|\$)")
  n_o=$(grep -c . <<<"$out_lines")
  n_d=$(grep -c . <<<"$dlq_lines")
  problem=
  if ((n_o + n_d != 1)); then
    problem="in output $n_o times and in the dead-letter topic $n_d times (want exactly once in total)"
  elif [[ $want == dlq:* ]]; then
    if ((n_d != 1)); then
      IFS=$'\t' read -r _ _ id date from _ <<<"$out_lines"
      problem="went to the output (published $date from $from), want dead-letter reason ${want#dlq:}"
    else
      reason=$(hdr "$dlq_lines" byline.reason)
      [[ $reason == "${want#dlq:}" ]] || problem="byline.reason=$reason, want ${want#dlq:}"
      for h in byline.stage byline.error byline.origin.topic byline.origin.partition byline.origin.timestamp; do
        tr '\t' '\n' <<<"$dlq_lines" | grep -q "^$h=." || problem="$problem; header $h missing or empty"
      done
      [[ $(hdr "$dlq_lines" @key) == "$name" ]] || problem="$problem; key $(hdr "$dlq_lines" @key), want the original key $name"
      bytes=$(hdr "$dlq_lines" @bytes)
      IFS=$'\t' read -r dlq_partition dlq_offset _ <<<"$dlq_lines"
      cmp -s -n 524288 "$file" "$BL_WORK/dlq/$dlq_partition-$dlq_offset" ||
        problem="$problem; dead-letter value differs from the original bytes"
      if ((size > 524288)); then
        [[ $bytes -eq 524288 && $(hdr "$dlq_lines" byline.truncated) == true && $(hdr "$dlq_lines" byline.original_bytes) == "$size" ]] ||
          problem="$problem; value $bytes bytes, truncated=$(hdr "$dlq_lines" byline.truncated), original_bytes=$(hdr "$dlq_lines" byline.original_bytes): want the first 524288 of $size bytes, truncated=true, original_bytes=$size"
      else
        [[ $bytes -eq $size ]] || problem="$problem; dead-letter value has $bytes bytes, the original $size"
      fi
      problem=${problem#; }
    fi
  else
    if ((n_o != 1)); then
      problem="dead-lettered with reason $(hdr "$dlq_lines" byline.reason) ($(hdr "$dlq_lines" byline.error)), want output with published.from ${want#out:}"
    else
      IFS=$'\t' read -r _ _ id date from _ <<<"$out_lines"
      [[ $from == "${want#out:}" ]] || problem="published.from=$from, want ${want#out:}"
      if [[ $name == no_date_header && $date != "$day_before" && $date != "$day_after" ]]; then
        problem="$problem; published.date=$date, want the Kafka timestamp's day $day_after"
      fi
      if [[ $name == final_normal && ($id != final-normal || $date != 2021-07-08) ]]; then
        problem="$problem; id=$id date=$date, want final-normal 2021-07-08"
      fi
      problem=${problem#; }
    fi
  fi
  if [[ -n $problem ]]; then
    echo "  BAD  $name (offset $offset, $size bytes): $problem" >&2
    failures=$((failures + 1))
  else
    echo "  ok   $name -> ${want}" >&2
  fi
done
((failures == 0)) || bl_fail "$failures of ${#cases[@]} inputs did not end where the contract says"
bl_log "PASS: every bad input dead-lettered as expected, good ones out, byline kept running"
