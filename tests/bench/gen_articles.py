#!/usr/bin/env python3
"""Generates the enrichment benchmark corpus: N varied news articles of
3-5 KB in byline's raw input format (" date YYYY-MM-DD headline\\n\\npara...").

Sentences come from the MEANTIME dev articles and the five samples, are
shuffled across articles and varied (people, places, organisations, outlets,
numbers, dates); template paragraphs add datelines, wire credits, citations
and relative dates so every extractor has work that looks like news.

Output: one file, articles separated by a NUL byte (no article holds one).
Deterministic for a given --seed.

  gen_articles.py --shared ../shared --config config --count 10000 --out FILE
"""
import argparse
import glob
import os
import random
import re
import sys

MIN_BYTES, MAX_BYTES = 3000, 5000

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SURNAMES = ["Smith", "Johnson", "Okafor", "Nakamura", "Fischer", "Rossi", "Kowalski", "Dubois",
            "Hernandez", "Petrov", "Larsen", "O'Brien", "Mensah", "Haddad", "Chen", "Singh",
            "Novak", "Andersson", "Moreau", "Costa", "Yilmaz", "Kim", "Tanaka", "Schulz",
            "Murphy", "Alvarez", "Ivanova", "Kaplan", "Bianchi", "Walsh", "Osei", "Lindqvist"]
TITLES = ["Mr", "Ms", "Mrs", "Dr", "President", "Prime Minister", "Senator", "General",
          "Minister", "Governor", "Chancellor", "Judge"]
ROLES = ["chief executive", "spokesperson", "finance minister", "foreign minister",
         "chairman", "analyst", "director", "senior official", "mayor", "economist"]
ORG_HEADS = ["Ministry of Finance", "Supreme Court", "Central Bank", "National Assembly",
             "Department of Energy", "Health Ministry", "Electoral Commission"]
RELATIVE = ["yesterday", "on {wd}", "last week", "earlier this month", "next year",
            "two days ago", "last {wd}", "this past week", "on {mon} {d}", "in {y}",
            "on {mon} {d}, {y}", "in the {dec}s", "three weeks ago", "later this year",
            "on {wd} night", "at 9 a.m. on {wd}", "over the weekend", "in late {mon}",
            "by the end of {y}", "for five hours", "annually", "{n} years ago",
            "on {mon}. {d}", "from {mon} {d}-{d2}", "in {y}-{y2}"]

TEMPLATES_LEAD = [
    "{CITY} ({AGENCY}) - {S}",
    "{CITYUP} • {S}",
    "{CITY}, {mon} {d} ({AGENCY}) - {S}",
]
TEMPLATES_PARA = [
    "{PERSON}, the {role} of {ORG}, said {REL} that the talks in {CITY} would continue.",
    "\u201cWe will not accept this,\u201d {TITLE} {SURNAME} told {OUTLET} {REL}.",
    "{OUTLET} had reported {REL} that {ORG} was considering a bid worth ${n} million.",
    "{TITLE} {SURNAME} met officials from {ORG} in {CITY} {REL}, according to {OUTLET}.",
    "Shares in {COMPANY} rose {n}.{d} per cent {REL} after the company said revenue grew to "
    "${n} billion in {y}.",
    "The {ORGHEAD} of {COUNTRY} said {REL} it would review the decision, which affects "
    "about {n},{n3} people in {CITY} and {CITY2}.",
    "{PERSON} arrived in {CITY} {REL} for a {nw}-day visit, the first since {y}.",
    "A spokesperson for {COMPANY} declined to comment when asked by {OUTLET}.",
    "{COUNTRY} and {COUNTRY2} signed the agreement in {CITY} on {mon} {d}, {y}.",
    "Protesters gathered outside the offices of {ORG} in {CITY} {REL}, {OUTLET} reported.",
]
TEMPLATES_CREDIT = [
    "{AGENCY} contributed reporting.",
    "Additional reporting by {AGENCYUP}, {AGENCY2UP}.",
    "Reporting by {PERSON} in {CITY}; editing by {PERSON2}.",
    "\u2014 With {AGENCY}",
]


def read_names(path, want_type=None):
    """First column of a gazetteer/source TSV (optionally only one entity type)."""
    names = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip() or line.startswith("#"):
                    continue
                cols = line.rstrip("\n").split("\t")
                if want_type and (len(cols) < 2 or cols[1] != want_type):
                    continue
                names.append(cols[0])
    except OSError:
        pass
    return names


def read_articles(paths):
    """(headline, [sentences]) of each raw article file."""
    out = []
    split = re.compile(r"(?<=[.!?\u201d\"])\s+(?=[A-Z\u201c\"])")
    for p in paths:
        with open(p, encoding="utf-8") as f:
            raw = f.read()
        head, _, body = raw.partition("\n\n")
        headline = re.sub(r"^ date \d{4}-\d{2}-\d{2} ", "", head).strip()
        sents = []
        for para in body.split("\n\n"):
            para = " ".join(para.split())
            if not para:
                continue
            sents.extend(s for s in split.split(para) if 20 <= len(s) <= 600)
        out.append((headline, sents))
    return out


class Generator:
    def __init__(self, rng, shared, config):
        self.rng = rng
        files = sorted(glob.glob(os.path.join(shared, "data", "meantime-dev", "*.txt")))
        files += sorted(glob.glob(os.path.join(shared, "samples", "*.txt")))
        arts = read_articles(files)
        if not arts:
            sys.exit("gen_articles: no source articles under %s" % shared)
        self.headlines = [h for h, _ in arts if h]
        self.sentences = [s for _, ss in arts for s in ss]
        gz = os.path.join(config, "gazetteer")
        src = os.path.join(config, "sources")
        self.people = read_names(os.path.join(gz, "30_people.tsv"), "PERSON") or ["Joe Biden"]
        self.cities = (read_names(os.path.join(gz, "20_cities.tsv"), "LOCATION") +
                       rng.sample(read_names(os.path.join(gz, "91_cities.tsv")) or ["Lyon"],
                                  k=200)) or ["London"]
        self.countries = read_names(os.path.join(gz, "10_countries.tsv"), "LOCATION") or ["France"]
        self.orgs = read_names(os.path.join(gz, "40_organizations.tsv")) or ["United Nations"]
        self.companies = read_names(os.path.join(gz, "45_companies.tsv")) or ["Airbus"]
        self.outlets = read_names(os.path.join(src, "outlets.tsv")) or ["Sky News"]
        self.agencies = read_names(os.path.join(src, "agencies.tsv")) or ["Reuters"]
        firsts = []
        with open(os.path.join(gz, "first_names.txt"), encoding="utf-8") as f:
            firsts = [w.strip().capitalize() for w in f if w.strip() and not w.startswith("#")]
        self.first_names = firsts or ["Anna"]
        # Names the source sentences mention get swapped for others of the same kind.
        known = {}
        for kind, names in (("P", self.people), ("L", self.cities + self.countries),
                            ("O", self.orgs + self.companies)):
            for n in names:
                if len(n) > 3:
                    known.setdefault(n, kind)
        self.known = known
        alts = sorted(known, key=len, reverse=True)
        self.name_re = re.compile(r"\b(" + "|".join(re.escape(n) for n in alts) + r")\b")
        self.num_re = re.compile(r"\d+")

    def new_person(self):
        r = self.rng
        if r.random() < 0.4:
            return r.choice(self.people)
        return "%s %s" % (r.choice(self.first_names), r.choice(SURNAMES))

    def new_cast(self):
        """The people, places and organisations one article is about: news
        names a few entities many times, not a new one in every sentence."""
        r = self.rng
        self.cast = {
            "P": [self.new_person() for _ in range(r.randint(3, 7))],
            "L": r.sample(self.cities, r.randint(2, 5)) + r.sample(self.countries, 2),
            "O": r.sample(self.orgs, 2) + r.sample(self.companies, r.randint(1, 3)),
        }
        self.swapped = {}

    def person(self):
        return self.rng.choice(self.cast["P"])

    def fill(self, template, year):
        r = self.rng
        mon = r.choice(MONTHS)
        d = r.randint(1, 27)
        city = r.choice(self.cast["L"])
        agency = r.choice(self.agencies)
        rel = r.choice(RELATIVE).format(wd=r.choice(WEEKDAYS), mon=mon, d=d, d2=d + 1,
                                        y=r.randint(1990, year), y2=r.randint(year, year + 5) % 100,
                                        dec=r.choice([1960, 1970, 1980, 1990]),
                                        n=r.randint(2, 60))
        return template.format(
            CITY=city, CITY2=r.choice(self.cast["L"]), CITYUP=city.upper(),
            AGENCY=agency, AGENCYUP=agency.upper(), AGENCY2UP=r.choice(self.agencies).upper(),
            PERSON=self.person(), PERSON2=self.person(), TITLE=r.choice(TITLES),
            SURNAME=r.choice(SURNAMES), role=r.choice(ROLES), ORG=r.choice(self.cast["O"]),
            ORGHEAD=r.choice(ORG_HEADS), COMPANY=r.choice(self.cast["O"]),
            COUNTRY=r.choice(self.countries), COUNTRY2=r.choice(self.countries),
            OUTLET=r.choice(self.outlets), REL=rel, mon=mon, d=d, y=r.randint(1995, year),
            n=r.randint(2, 950), n3="%03d" % r.randint(0, 999), nw=r.randint(2, 9),
            S=self.sentence())

    def vary_number(self, m):
        s = m.group(0)
        r = self.rng
        if len(s) == 4 and s[:2] in ("19", "20"):
            return str(r.randint(1990, 2024))
        if len(s) > 6 or len(s) < 3:  # days of the month, small counts, ids stay
            return s
        lo = 10 ** (len(s) - 1) if len(s) > 1 else 0
        return str(r.randint(lo, 10 ** len(s) - 1))

    def vary_name(self, m):
        name = m.group(0)
        if name not in self.swapped:  # one name keeps one stand-in within an article
            r = self.rng
            keep = r.random() < 0.4
            self.swapped[name] = name if keep else r.choice(self.cast[self.known[name]])
        return self.swapped[name]

    def sentence(self):
        s = self.rng.choice(self.sentences)
        s = self.num_re.sub(self.vary_number, s)
        return self.name_re.sub(self.vary_name, s)

    def paragraph(self, year):
        r = self.rng
        if r.random() < 0.3:
            return self.fill(r.choice(TEMPLATES_PARA), year)
        return " ".join(self.sentence() for _ in range(r.randint(1, 3)))

    def article(self):
        r = self.rng
        self.new_cast()
        year = r.randint(2000, 2024)
        date = "%04d-%02d-%02d" % (year, r.randint(1, 12), r.randint(1, 28))
        if r.random() < 0.5:
            headline = self.name_re.sub(self.vary_name, r.choice(self.headlines))
        else:  # the opening words of a varied sentence, as many headlines are
            headline = " ".join(self.sentence().rstrip(".").split()[:r.randint(6, 14)])
        target = r.randint(MIN_BYTES, MAX_BYTES)
        paras = [self.fill(r.choice(TEMPLATES_LEAD), year) if r.random() < 0.5
                 else self.sentence()]
        credit = self.fill(r.choice(TEMPLATES_CREDIT), year) if r.random() < 0.4 else None

        def size():
            n = len((" date %s %s" % (date, headline)).encode())
            for p in paras + ([credit] if credit else []):
                n += 2 + len(p.encode())
            return n

        misses = 0
        while size() < target and misses < 50:
            p = self.paragraph(year)
            if size() + 2 + len(p.encode()) > MAX_BYTES:
                misses += 1
                continue
            paras.append(p)
        if credit:
            paras.append(credit)
        text = " date %s %s\n\n%s" % (date, headline, "\n\n".join(paras))
        return text.encode("utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", required=True, help="the shared dir (data/meantime-dev, samples)")
    ap.add_argument("--config", required=True, help="byline's config dir (names to vary)")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    gen = Generator(rng, args.shared, args.config)
    total = 0
    sizes = []
    with open(args.out + ".tmp", "wb") as out:
        while len(sizes) < args.count:
            a = gen.article()
            if not MIN_BYTES <= len(a) <= MAX_BYTES:
                continue
            out.write(a)
            out.write(b"\0")
            sizes.append(len(a))
            total += len(a)
    os.replace(args.out + ".tmp", args.out)
    sizes.sort()
    print("gen_articles: %d articles, %.1f MB, %d-%d bytes (median %d), from %d sentences, "
          "%d headlines" % (len(sizes), total / 1e6, sizes[0], sizes[-1], sizes[len(sizes) // 2],
                            len(gen.sentences), len(gen.headlines)))


if __name__ == "__main__":
    main()
