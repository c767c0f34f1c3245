#!/usr/bin/env python3
"""Scores byline records against gold annotations (MEANTIME-style gold files).

Usage:
  score.py [--schema config/record.schema.json] [--floors floors.json]
           --set NAME TXT_DIR GOLD_DIR RECORDS.jsonl [--set ...]

Each --set lists the inputs: every TXT_DIR/X.txt that has GOLD_DIR/X.gold.json,
in sorted order; RECORDS.jsonl holds `byline enrich` output for exactly those
files, one record per line, in the same order.

Offsets. Gold spans are UTF-8 byte offsets into the raw input (start_byte,
end_byte). A record's spans are byte offsets into its "text" (headline, blank
line, kept paragraphs). When text == raw[17:] (nothing cleaned away; the raw
header " date YYYY-MM-DD " is 17 bytes) a record offset maps to offset + 17.
Otherwise each paragraph of the record text is located in the raw bytes,
searching forward from the end of the previous one, and offsets inside it map
to its raw position; a span in a paragraph that cannot be located is counted
as unmapped (and fails the span check). Gold mentions that fall in raw text
the record no longer holds (repeated or boilerplate paragraphs the cleaner
dropped) are left out of the scoring and counted in "gold in dropped text".

Entities: document-level sets of (mention text casefolded, a leading "the "
removed, type) for PER/ORG/LOC; record types PERSON/ORGANIZATION/LOCATION map
to PER/ORG/LOC, other types are not scored. A predicted mention whose key is
not gold for its type but equals a gold PRO/FIN/MIX/UNK mention or a prenam
mention is ignored (neither right nor wrong). Micro-averaged over documents.

Scope: MEANTIME annotates only the headline and the first sentences of each
article (in meantime-dev every gold mention lies in the headline or the first
four body paragraphs, one sentence each). "--scope meantime=4" scores only
predictions that start in the headline or the first 4 body paragraphs of the
raw input; predictions further down are neither right nor wrong.

Sources (when the gold has "sources"): sets of (agencies|datelines|cited,
canonical name) per document, micro P/R/F1.

Dates: exact byte-span match (extent) and exact span + TimeML value (value),
micro over mentions. Published: record published.date == gold "published".

Floors: {"SET": {"METRIC": minimum, ...}, "checks": {...}}; the metrics
printed in the tables are the names (e.g. "PER.f1", "dates.value_f1").
Exit status 1 when a figure is below its floor or a check fails, 2 on bad
input. The last line is "N passed, M failed" over the checks.
"""
import argparse
import json
import os
import sys

TYPE_MAP = {"PERSON": "PER", "ORGANIZATION": "ORG", "LOCATION": "LOC",
            "PER": "PER", "ORG": "ORG", "LOC": "LOC"}
SCORED = ("PER", "ORG", "LOC")
IGNORED_GOLD = ("PRO", "FIN", "MIX", "UNK")
HEADER_LEN = 17  # b" date YYYY-MM-DD "
DETAILS = False  # --details: print each document's misses and spurious predictions


def die(msg):
    print("score.py: " + msg, file=sys.stderr)
    sys.exit(2)


def norm(text):
    t = " ".join(text.casefold().split())
    if t.startswith("the "):
        t = t[4:]
    return t


class OffsetMap:
    """Maps record-text byte offsets to raw-input byte offsets."""

    def __init__(self, raw, text):
        self.identity = raw[HEADER_LEN:] == text
        self.pieces = []  # (text_start, text_end, raw_start)
        self.kept = []  # raw (start, end) ranges the record holds
        if self.identity:
            self.kept.append((HEADER_LEN, len(raw)))
            return
        pos, tpos = 0, 0
        for para in text.split(b"\n\n"):
            if para:
                found = raw.find(para, pos)
                if found >= 0:
                    self.pieces.append((tpos, tpos + len(para), found))
                    self.kept.append((found, found + len(para)))
                    pos = found + len(para)
            tpos += len(para) + 2

    def span(self, start, end):
        """@returns the raw (start, end) or None."""
        if self.identity:
            return start + HEADER_LEN, end + HEADER_LEN
        for ts, te, rs in self.pieces:
            if ts <= start and end <= te:
                return rs + start - ts, rs + end - ts
        return None

    def holds(self, start, end):
        return any(ks <= start and end <= ke for ks, ke in self.kept)


class Counts:
    def __init__(self):
        self.tp = self.fp = self.fn = 0

    def add(self, tp, fp, fn):
        self.tp += tp
        self.fp += fp
        self.fn += fn

    def prf(self):
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f


def load_schema_validator(path):
    try:
        import jsonschema
    except ImportError:
        die("python3 jsonschema is not installed (apt-get install -y python3-jsonschema); "
            "cannot validate records against " + path)
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def scope_limit(raw, paragraphs):
    """@returns the raw byte offset where the scored part ends."""
    if paragraphs is None:
        return len(raw)
    pos = 0
    for i, para in enumerate(raw.split(b"\n\n")):
        pos += len(para)
        if i == paragraphs:  # index 0 is the header + headline line
            return pos
        pos += 2
    return len(raw)


def score_set(name, txt_dir, gold_dir, records_path, validator, problems, scope=None):
    """@returns a dict of metric name -> value, and prints the tables."""
    names = sorted(f[:-4] for f in os.listdir(txt_dir)
                   if f.endswith(".txt") and os.path.exists(os.path.join(gold_dir, f[:-4] + ".gold.json")))
    if not names:
        die(f"{name}: no .txt with gold in {txt_dir} / {gold_dir}")
    with open(records_path, encoding="utf-8") as f:
        lines = [l for l in f.read().split("\n") if l.strip()]
    if len(lines) != len(names):
        problems.append(f"{name}: {len(lines)} records for {len(names)} inputs")
    ent = {t: Counts() for t in SCORED}
    ext, val, srcs = Counts(), Counts(), Counts()
    have_sources = False
    pub_ok = pub_n = 0
    span_errors = unmapped = schema_invalid = dropped_gold = 0
    for i, doc in enumerate(names):
        with open(os.path.join(txt_dir, doc + ".txt"), "rb") as f:
            raw = f.read()
        with open(os.path.join(gold_dir, doc + ".gold.json"), encoding="utf-8") as f:
            gold = json.load(f)
        if i >= len(lines):
            problems.append(f"{name}/{doc}: no record")
            continue
        try:
            rec = json.loads(lines[i])
        except ValueError as e:
            problems.append(f"{name}/{doc}: record is not JSON: {e}")
            continue
        if validator is not None:
            errs = sorted(validator.iter_errors(rec), key=lambda e: list(e.path))
            if errs:
                schema_invalid += 1
                e = errs[0]
                # Counted by the schema_invalid check; shown here for the reader.
                print(f"  schema error {name}/{doc}: /{'/'.join(map(str, e.path))}: {e.message[:200]}")
        text = rec.get("text")
        if not isinstance(text, str):
            problems.append(f"{name}/{doc}: record has no text")
            continue
        tb = text.encode("utf-8")
        omap = OffsetMap(raw, tb)
        limit = scope_limit(raw, scope)

        def raw_span(start, end, surface):
            nonlocal span_errors, unmapped
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(tb)):
                span_errors += 1
                return None
            if surface is not None and tb[start:end].decode("utf-8", "replace") != surface:
                span_errors += 1
                return None
            rs = omap.span(start, end)
            if rs is None:
                unmapped += 1
            return rs

        # Entities: document-level sets.
        gold_keys = {t: set() for t in SCORED}
        ignore = set()
        for m in gold.get("entities", []):
            if not omap.holds(m["start_byte"], m["end_byte"]):
                dropped_gold += 1
                continue
            if m["type"] in SCORED:
                gold_keys[m["type"]].add(norm(m["text"]))
            elif m["type"] in IGNORED_GOLD:
                ignore.add(norm(m["text"]))
        for m in gold.get("prenam", []):
            ignore.add(norm(m["text"]))
        pred_keys = {t: set() for t in SCORED}
        for e in rec.get("entities") or []:
            t = TYPE_MAP.get(e.get("type"))
            for m in e.get("mentions") or []:
                rs = raw_span(m.get("start"), m.get("end"), m.get("text"))
                if t and (rs is None or rs[0] < limit):
                    pred_keys[t].add(norm(m.get("text", "")))
        for t in SCORED:
            g, p = gold_keys[t], pred_keys[t]
            tp = len(g & p)
            fps = sorted(k for k in p - g if k not in ignore)
            ent[t].add(tp, len(fps), len(g - p))
            if DETAILS and (fps or g - p):
                print(f"  {doc} {t}: missed {sorted(g - p)} spurious {fps}")

        # Dates: exact spans, exact values.
        gold_ext, gold_val = set(), set()
        for m in gold.get("timex", []):
            if not omap.holds(m["start_byte"], m["end_byte"]):
                dropped_gold += 1
                continue
            gold_ext.add((m["start_byte"], m["end_byte"]))
            gold_val.add((m["start_byte"], m["end_byte"], m["value"]))
        pred_ext, pred_val = set(), set()
        for d in rec.get("dates") or []:
            rs = raw_span(d.get("start"), d.get("end"), d.get("text"))
            if rs is not None and rs[0] >= limit:
                continue
            key = rs if rs else ("unmapped", d.get("start"), d.get("end"))
            pred_ext.add(key)
            pred_val.add(key + (d.get("value"),))
        if DETAILS and (gold_val ^ pred_val):
            def show(vals):
                return sorted((raw[v[0]:v[1]].decode("utf-8", "replace") if isinstance(v[0], int) else "?", v[-1])
                              for v in vals)
            print(f"  {doc} dates: missed {show(gold_val - pred_val)} spurious {show(pred_val - gold_val)}")
        ext.add(len(gold_ext & pred_ext), len(pred_ext - gold_ext), len(gold_ext - pred_ext))
        val.add(len(gold_val & pred_val), len(pred_val - gold_val), len(gold_val - pred_val))

        # Source spans are checked too (names need not equal the surface).
        for key in ("agencies", "datelines", "cited"):
            for s in (rec.get("source") or {}).get(key) or []:
                if isinstance(s, dict):
                    raw_span(s.get("start"), s.get("end"), None)

        # Sources, where the gold has them: sets of (list, canonical name).
        if "sources" in gold:
            have_sources = True
            got = (rec.get("source") or {})
            gs = {(k, n) for k in ("agencies", "datelines", "cited") for n in gold["sources"].get(k, [])}
            ps = {(k, s.get("name")) for k in ("agencies", "datelines", "cited")
                  for s in got.get(k) or [] if isinstance(s, dict)}
            srcs.add(len(gs & ps), len(ps - gs), len(gs - ps))
            if DETAILS and gs != ps:
                print(f"  {doc} sources: missed {sorted(gs - ps)} spurious {sorted(ps - gs)}")

        if "published" in gold:
            pub_n += 1
            pub_ok += (rec.get("published") or {}).get("date") == gold["published"]

    metrics = {}
    scope_note = f", scored: headline + first {scope} paragraphs" if scope is not None else ""
    print(f"\n== {name}: {len(names)} documents ({records_path}{scope_note})")
    print(f"{'entities':<10} {'P':>6} {'R':>6} {'F1':>6} {'tp':>5} {'fp':>5} {'fn':>5}")
    overall = Counts()
    for t in SCORED:
        c = ent[t]
        overall.add(c.tp, c.fp, c.fn)
        p, r, f = c.prf()
        metrics.update({f"{t}.precision": p, f"{t}.recall": r, f"{t}.f1": f})
        print(f"{t:<10} {p:6.3f} {r:6.3f} {f:6.3f} {c.tp:5d} {c.fp:5d} {c.fn:5d}")
    p, r, f = overall.prf()
    metrics.update({"overall.precision": p, "overall.recall": r, "overall.f1": f})
    print(f"{'overall':<10} {p:6.3f} {r:6.3f} {f:6.3f} {overall.tp:5d} {overall.fp:5d} {overall.fn:5d}")
    print(f"{'dates':<10} {'P':>6} {'R':>6} {'F1':>6} {'tp':>5} {'fp':>5} {'fn':>5}")
    for label, c in (("extent", ext), ("value", val)):
        p, r, f = c.prf()
        metrics.update({f"dates.{label}_precision": p, f"dates.{label}_recall": r,
                        f"dates.{label}_f1": f})
        print(f"{label:<10} {p:6.3f} {r:6.3f} {f:6.3f} {c.tp:5d} {c.fp:5d} {c.fn:5d}")
    if have_sources:
        p, r, f = srcs.prf()
        metrics.update({"sources.precision": p, "sources.recall": r, "sources.f1": f})
        print(f"{'sources':<10} {p:6.3f} {r:6.3f} {f:6.3f} {srcs.tp:5d} {srcs.fp:5d} {srcs.fn:5d}")
    acc = pub_ok / pub_n if pub_n else 0.0
    metrics["published.accuracy"] = acc
    print(f"published  accuracy {acc:.3f} ({pub_ok}/{pub_n})")
    print(f"spans: {span_errors} wrong (text differs or out of range), {unmapped} unmapped; "
          f"gold in dropped text: {dropped_gold}; schema-invalid records: "
          f"{schema_invalid if validator is not None else 'not checked'}")
    metrics.update({"span_errors": span_errors, "unmapped_spans": unmapped,
                    "schema_invalid": schema_invalid})
    return metrics


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", nargs=4, action="append", required=True,
                    metavar=("NAME", "TXT_DIR", "GOLD_DIR", "RECORDS"))
    ap.add_argument("--schema", help="JSON Schema every record must satisfy")
    ap.add_argument("--floors", help="floors.json")
    ap.add_argument("--scope", action="append", default=[], metavar="NAME=N",
                    help="score only the headline and first N body paragraphs of set NAME")
    ap.add_argument("--details", action="store_true",
                    help="print each document's missed and spurious keys")
    args = ap.parse_args()
    global DETAILS
    DETAILS = args.details

    validator = load_schema_validator(args.schema) if args.schema else None
    if not args.schema:
        print("schema: no schema file given; records not validated")
    floors = {}
    if args.floors:
        with open(args.floors, encoding="utf-8") as f:
            floors = json.load(f)

    passed = failed = 0
    problems = []
    results = {}
    scopes = {}
    for sc in args.scope:
        key, _, n = sc.partition("=")
        if not n.isdigit():
            die(f"--scope {sc}: want NAME=N")
        scopes[key] = int(n)
    for name, txt_dir, gold_dir, records in args.set:
        results[name] = score_set(name, txt_dir, gold_dir, records, validator, problems,
                                  scopes.get(name))

    print("\n== checks")
    for name, metrics in results.items():
        # Always-on checks: every span exact, every record valid.
        for key in ("span_errors", "unmapped_spans") + (("schema_invalid",) if validator else ()):
            ok = metrics[key] == 0
            passed, failed = passed + ok, failed + (not ok)
            print(f"{'ok  ' if ok else 'FAIL'} {name} {key} = {metrics[key]} (must be 0)")
        for key, floor in sorted((floors.get(name) or {}).items()):
            if key.startswith("_"):
                continue
            if key not in metrics:
                problems.append(f"floors.json: unknown metric {name}.{key}")
                continue
            ok = metrics[key] >= floor
            passed, failed = passed + ok, failed + (not ok)
            print(f"{'ok  ' if ok else 'FAIL'} {name} {key} = {metrics[key]:.3f} (floor {floor:.3f})")
    for name in floors:
        if not name.startswith("_") and name not in results:
            problems.append(f"floors.json: set {name} was not scored")
    for p in problems:
        print("FAIL " + p)
    failed += len(problems)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
