#!/usr/bin/env python3
"""Checks the entities topic against the output records: for every record
and every entity in it there is exactly one message {"article_id",
"published", "headline", "entity"} with the record's id, publication and
headline and the entity unchanged, keyed by the entity's id (else its
name); and there is no other message.

usage: check_entity_messages.py RECORDS.jsonl ENTS.jsonl ENTS.tsv
(ENTS.tsv: bl_kafkatool consume --headers output, same order as ENTS.jsonl)"""
import collections
import json
import sys


def canon(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


def main(records_path, ents_path, tsv_path):
    want = collections.Counter()
    for line in open(records_path, encoding="utf-8"):
        rec = json.loads(line)
        for ent in rec["entities"]:
            key = ent["id"] if ent["id"] is not None else ent["name"]
            want[(key, canon({"article_id": rec["id"], "published": rec["published"],
                               "headline": rec["headline"], "entity": ent}))] += 1
    have = collections.Counter()
    keys = [l.rstrip("\n").split("\t@key=", 1)[-1].split("\t")[0] for l in open(tsv_path, encoding="utf-8")]
    msgs = [json.loads(l) for l in open(ents_path, encoding="utf-8")]
    if len(keys) != len(msgs):
        sys.exit(f"{len(keys)} keys but {len(msgs)} messages")
    for key, msg in zip(keys, msgs):
        have[(key, canon(msg))] += 1
    missing = want - have
    extra = have - want
    print(f"entity messages: want {sum(want.values())}, have {sum(have.values())}, "
          f"missing {sum(missing.values())}, unexpected {sum(extra.values())}")
    for (key, m), _ in list(missing.items())[:3]:
        print(f"  missing: key {key!r} {m[:300]}")
    for (key, m), _ in list(extra.items())[:3]:
        print(f"  unexpected: key {key!r} {m[:300]}")
    return 1 if missing or extra else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
