#!/usr/bin/env python3
"""Validates every line of a JSONL file of output records against
config/record.schema.json and checks that every span slices the record's
text exactly. Exit 1 (with the first problems) on any failure."""
import json
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate_records: python3-jsonschema is missing (tests/run.sh installs it)")


def spans(rec):
    src = rec.get("source") or {}
    for d in rec.get("dates", []):
        yield d, d.get("text")
    for kind in ("agencies", "datelines", "cited"):
        for s in src.get(kind, []):
            yield s, None
    for e in rec.get("entities", []):
        for m in e.get("mentions", []):
            yield m, m.get("text")


def main(schema_path, jsonl_path):
    validator = jsonschema.Draft7Validator(json.load(open(schema_path)))
    n = bad = 0
    for line_no, line in enumerate(open(jsonl_path, encoding="utf-8"), 1):
        n += 1
        problems = []
        try:
            rec = json.loads(line)
        except ValueError as e:
            problems.append(f"not JSON: {e}")
            rec = None
        if rec is not None:
            problems += [e.message[:200] for e in validator.iter_errors(rec)]
            text = rec.get("text", "").encode("utf-8")
            for span, want in spans(rec):
                s, e = span.get("start", -1), span.get("end", -1)
                if not (0 <= s <= e <= len(text)):
                    problems.append(f"span {s}..{e} outside text of {len(text)} bytes")
                elif want is not None and text[s:e].decode("utf-8", "replace") != want:
                    problems.append(f"span {s}..{e} is not {want!r}")
        if problems:
            bad += 1
            if bad <= 5:
                print(f"record {line_no}: " + "; ".join(problems[:3]), file=sys.stderr)
    print(f"validate_records: {n} records, {bad} invalid ({jsonl_path})")
    return 1 if bad or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
