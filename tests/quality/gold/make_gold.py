#!/usr/bin/env python3
"""Writes the sample gold files (NAME.gold.json) from the hand annotations
below. Every listed surface is annotated at each occurrence in the sample
(case-sensitive, whole words, longest annotation first, no overlaps), so
the byte offsets are exact. Run: make_gold.py SAMPLES_DIR OUT_DIR

Conventions (MEANTIME-like, see ../score.py for how they are scored):
* PER mentions are names with the formal title or honorific written right
  before them, as MEANTIME does ("President Vladimir Putin", "Prime Minister
  Boris Johnson", "Mr Putin"), without nationality adjectives ("Russian")
  and without role nouns ("spokesperson", "aide", "envoy"); a bare name
  ("Putin") is its own mention.
* Countries, cities, regions are LOC, also when they stand for a government
  ("Moscow said"); "Kremlin", "White House", "NATO" are ORG.
* Names used only as pre-modifiers ("Biden administration", "US officials",
  "EU allies") are prenam; vague or mixed names ("the West", "Russia-West",
  events, products) are UNK/PRO: predictions equal to them are ignored.
* sources: the canonical names (config/sources/*.tsv) of the agencies
  credited, the dateline places and the outlets cited; scored as sets.
* TIMEX3 values resolved against the publication date; extents without
  prepositions ("on Tuesday" -> "Tuesday").
"""
import json
import os
import re
import sys

G = {}

G["000_50c4f09b1dab0119"] = dict(
    sources={"agencies": [], "datelines": [], "cited": []},
    published="2021-12-31",
    entities=[
        ("Kadamovskiy firing range", "LOC"), ("Rostov", "LOC"), ("Russia", "LOC"),
        ("Joe Biden", "PER"), ("Vladimir Putin", "PER"), ("Mr Putin", "PER"), ("Mr Biden", "PER"),
        ("Ukraine", "LOC"), ("Kremlin", "ORG"), ("Geneva", "LOC"), ("Nato", "ORG"),
        ("White House", "ORG"), ("US", "LOC"), ("Moscow", "LOC"),
        ("Central and Eastern Europe", "LOC"), ("Steven Pifer", "PER"), ("Mr Pifer", "PER"),
        ("Nato-Russia Council", "ORG"), ("eastern Europe", "LOC"), ("Caucasus", "LOC"),
        ("Central Asia", "LOC"), ("Brookings Institution", "ORG"), ("Dmitry Peskov", "PER"),
        ("Mr Peskov", "PER"), ("Zircon", "PRO"),
    ],
    prenam=[("Biden", "PER"), ("Clinton", "PER"), ("Soviet", "LOC"), ("Washington", "LOC")],
    timex=[
        ("yesterday", "DATE", "2021-12-30"), ("this month", "DATE", "2021-12"),
        ("January 10", "DATE", "2022-01-10"), ("the near future", "DATE", "FUTURE_REF"),
        ("Last week", "DATE", "2021-W51"),
    ],
)

_lead = [  # the lead shared by 001 and 004
    ("Russia", "LOC"), ("United States", "LOC"), ("Ukraine", "LOC"), ("NATO", "ORG"),
    ("Moscow", "LOC"), ("Crimea", "LOC"), ("Belarus", "LOC"), ("U.S.", "LOC"), ("U.S", "LOC"),
    ("West", "UNK"),
]

G["001_a0fb72cbb98edc44"] = dict(
    sources={"agencies": ["AFP"], "datelines": [], "cited": ["Sky News"]},
    published="2022-02-02",
    entities=_lead + [
        ("Washington", "LOC"), ("President Vladimir Putin", "PER"), ("Xi Jinping", "PER"),
        ("Winter Olympic Games", "UNK"), ("Kremlin", "ORG"), ("Yury Ushakov", "PER"),
        ("Ushakov", "PER"), ("China", "LOC"), ("Prime Minister Boris Johnson", "PER"), ("Putin", "PER"),
        ("Dmitry Polyanskiy", "PER"), ("UN", "ORG"), ("Sky News", "ORG"), ("President Joe Biden", "PER"),
        ("eastern Europe", "LOC"), ("Kursk", "LOC"), ("Prime Minister Viktor Orban", "PER"),
        ("Orban", "PER"), ("Johnson", "PER"), ("President Volodomyr Zelenskiy", "PER"), ("Kyiv", "LOC"),
        ("AFP", "ORG"),
    ],
    prenam=[],
    timex=[
        ("1997", "DATE", "1997"), ("last week", "DATE", "2022-W04"), ("Feb. 2", "DATE", "2022-02-02"),
        ("today", "DATE", "2022-02-02"), ("Wednesday", "DATE", "2022-02-02"),
        ("Tuesday", "DATE", "2022-02-01"), ("five-hour", "DURATION", "PT5H"),
    ],
)

G["002_25828fa386dd66d7"] = dict(
    sources={"agencies": ["Reuters", "AFP"], "datelines": ["Wilmington", "Moscow"], "cited": []},
    published="2022-01-01",
    entities=[
        ("WILMINGTON", "LOC"), ("MOSCOW", "LOC"), ("US", "LOC"), ("President Joe Biden", "PER"),
        ("Vladimir Putin", "PER"), ("Ukraine", "LOC"), ("Mr Biden", "PER"), ("Russia", "LOC"),
        ("Mr Putin", "PER"), ("Washington", "LOC"), ("President Biden", "PER"), ("Biden", "PER"),
        ("White House", "ORG"), ("President Putin", "PER"),
        ("Jen Psaki", "PER"), ("Yuri Ushakov", "PER"), ("Russia-Nato", "UNK"), ("Kiev", "LOC"),
        ("North Atlantic Treaty Organisation", "ORG"), ("Nato", "ORG"), ("Moscow", "LOC"),
        ("Jstars", "PRO"), ("Mr Ushakov", "PER"), ("Putin", "PER"), ("Crimea", "LOC"),
        ("Olaf Scholz", "PER"), ("Mr Scholz", "PER"), ("Europe", "LOC"),
        ("European Union", "ORG"), ("West", "UNK"), ("REUTERS", "ORG"),
        ("AGENCE FRANCE-PRESSE", "ORG"), ("New Year's", "UNK"),
    ],
    prenam=[("Kremlin", "ORG")],
    timex=[
        ("this month", "DATE", "2022-01"), ("50-minute", "DURATION", "PT50M"),
        ("Thursday", "DATE", "2021-12-30"), ("this past month", "DATE", "2021-12"),
        ("Jan 9-10", "DATE", "2022-01-09"), ("Jan 12", "DATE", "2022-01-12"),
        ("Jan 13", "DATE", "2022-01-13"), ("the weekend", "DATE", "2021-W51-WE"),
        ("earlier this week", "DATE", "2021-W52"), ("now", "DATE", "PRESENT_REF"),
        ("the past two months", "DURATION", "P2M"), ("2014", "DATE", "2014"),
        ("yesterday", "DATE", "2021-12-31"), ("currently", "DATE", "PRESENT_REF"),
    ],
)

G["003_7f38d15a5e445be0"] = dict(
    sources={"agencies": [], "datelines": [], "cited": []},
    published="2021-12-30",
    entities=[
        ("Biden", "PER"), ("Putin", "PER"), ("Ukraine", "LOC"), ("Joe Biden", "PER"),
        ("Vladimir Putin", "PER"), ("Russia-West", "UNK"), ("Eastern Europe", "LOC"),
        ("Geneva", "LOC"), ("Russia", "LOC"), ("United States", "LOC"), ("Soviet Union", "LOC"),
        ("Crimean peninsula", "LOC"), ("Moscow", "LOC"), ("West", "UNK"), ("NATO", "ORG"),
        ("US", "LOC"), ("Washington", "LOC"), ("Crimea", "LOC"), ("Wilmington", "LOC"),
        ("Delaware", "LOC"), ("Dmitry Peskov", "PER"), ("Kremlin", "ORG"),
    ],
    prenam=[("EU", "ORG")],
    timex=[
        ("Thursday", "DATE", "2021-12-30"), ("2030 GMT", "TIME", "2021-12-30T20:30"),
        ("three weeks", "DURATION", "P3W"), ("January", "DATE", "2022-01"),
        ("2014", "DATE", "2014"), ("that same year", "DATE", "2014"),
        ("earlier this month", "DATE", "2021-12"),
    ],
)

G["004_82b657cf8cb65e72"] = dict(
    sources={"agencies": ["AFP"], "datelines": [], "cited": ["The Washington Post"]},
    published="2022-02-01",
    entities=_lead + [
        ("Secretary of State Antony Blinken", "PER"), ("Foreign Minister Sergei Lavrov", "PER"),
        ("Washington Post", "ORG"),
        ("Foreign Ministry", "ORG"), ("Kremlin", "ORG"), ("President Vladimir Putin", "PER"),
        ("Prime Minister Viktor Orban", "PER"), ("Putin", "PER"), ("Budapest", "LOC"), ("Hungary", "LOC"),
        ("Europe", "LOC"), ("Orban", "PER"), ("Prime Minister Mario Draghi", "PER"), ("Draghi", "PER"),
        ("Transnistria", "LOC"), ("Moldova", "LOC"), ("Prime Minister Boris Johnson", "PER"), ("Kyiv", "LOC"),
        ("President Volodymyr Zelenskiy", "PER"), ("Prime Minister Denys Shmygal", "PER"),
        ("United Kingdom", "LOC"),
        ("Poland", "LOC"), ("Johnson", "PER"), ("UN Security Council", "ORG"), ("UN", "ORG"),
        ("Linda Thomas-Greenfield", "PER"), ("Vasily Nebenzya", "PER"),
        ("Security Council", "ORG"), ("President Emmanuel Macron", "PER"), ("Denmark", "LOC"),
        ("Prime Minister Mette Frederiksen", "PER"), ("AFP", "ORG"),
    ],
    prenam=[("EU", "ORG"), ("UK", "LOC")],
    timex=[
        ("1997", "DATE", "1997"), ("last week", "DATE", "2022-W04"), ("Feb. 1", "DATE", "2022-02-01"),
        ("today", "DATE", "2022-02-01"), ("Wednesday", "DATE", "2022-01-26"),
        ("Monday", "DATE", "2022-01-31"), ("Tuesday", "DATE", "2022-02-01"),
        ("four days", "DURATION", "P4D"),
    ],
)


def find_all(raw, items):
    """Longest first, whole words, no overlaps: [(start_byte, end_byte, item)]."""
    taken, out = [], []
    for item in sorted(items, key=lambda it: -len(it[0])):
        pat = re.compile(r"(?<!\w)" + re.escape(item[0]) + r"(?!\w)")
        n = found = 0
        for m in pat.finditer(raw):
            found += 1
            s = len(raw[:m.start()].encode())
            e = s + len(m.group().encode())
            if m.start() < 17 or any(s < te and ts < e for ts, te in taken):
                continue
            taken.append((s, e))
            out.append((s, e, item, m.start(), m.end()))
            n += 1
        if found == 0:  # (all inside longer mentions is fine)
            sys.exit(f"annotation not found: {item[0]!r}")
    return sorted(out)


def mention(raw, s, e, cs, ce, item, mid, kind):
    d = {"text": raw[cs:ce], "type": item[1], "start": cs, "end": ce,
         "start_byte": s, "end_byte": e, "m_id": str(mid)}
    if kind == "timex":
        d["value"] = item[2]
    return d


def main():
    samples, out = sys.argv[1], sys.argv[2]
    for name, g in sorted(G.items()):
        with open(os.path.join(samples, name + ".txt"), encoding="utf-8") as f:
            raw = f.read()
        assert raw.startswith(" date " + g["published"] + " ")
        doc = {"id": name, "doc_id": name.split("_")[0], "corpus": "byline-samples", "url": None,
               "published": g["published"], "headline": raw[17:].split("\n", 1)[0]}
        mid = 0
        # Entities and prenam share one no-overlap pass so a prenam never
        # sits inside an entity mention and vice versa.
        both = [(t, ty, "e") for t, ty in g["entities"]] + [(t, ty, "p") for t, ty in g["prenam"]]
        doc["entities"], doc["prenam"] = [], []
        for s, e, item, cs, ce in find_all(raw, both):
            mid += 1
            (doc["entities"] if item[2] == "e" else doc["prenam"]).append(
                mention(raw, s, e, cs, ce, item, mid, "entity"))
        doc["timex"] = []
        for s, e, item, cs, ce in find_all(raw, g["timex"]):
            mid += 1
            doc["timex"].append(mention(raw, s, e, cs, ce, item, mid, "timex"))
        doc["sources"] = g["sources"]  # canonical names, as in config/sources
        doc["annotated"] = {"entities": True, "timex": True, "sources": True}
        doc["entity_types"] = ["PER", "ORG", "LOC", "PRO", "FIN", "MIX", "UNK"]
        doc["source"] = "byline hand annotation of shared/samples (see make_gold.py)"
        with open(os.path.join(out, name + ".gold.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"{name}: {len(doc['entities'])} entity mentions, {len(doc['prenam'])} prenam, "
              f"{len(doc['timex'])} timex")


if __name__ == "__main__":
    main()
