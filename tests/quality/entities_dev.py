#!/usr/bin/env python3
"""Document-level entity scorer over the MEANTIME dev set.

Per document: the set of (casefolded mention text without a leading "the ",
type) for PER/ORG/LOC. Predictions whose text equals a gold PRO/FIN/MIX/UNK
mention or a pre-modifier (prenam) are ignored.

Usage: tests/quality/entities_dev.py [--tool PATH] [--data DIR] [--config DIR] [-v]
Prints precision/recall/F1 per type and overall; -v lists misses and false hits.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
TYPES = {'PERSON': 'PER', 'ORGANIZATION': 'ORG', 'LOCATION': 'LOC'}


def norm(t):
    t = ' '.join(t.split()).casefold()
    return t[4:] if t.startswith('the ') else t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tool', default=os.path.join(ROOT, 'build-ent', 'tests', 'bl_entities_dev'))
    ap.add_argument('--data', default=os.path.join(ROOT, '..', 'shared', 'data', 'meantime-dev'))
    ap.add_argument('--config', default=os.path.join(ROOT, 'config'))
    ap.add_argument('-v', action='store_true')
    args = ap.parse_args()
    txts = sorted(glob.glob(os.path.join(args.data, '*.txt')))
    out = subprocess.run([args.tool, args.config] + txts, check=True, capture_output=True, text=True)
    preds = [json.loads(l) for l in out.stdout.splitlines()]
    tp = {t: 0 for t in ('PER', 'ORG', 'LOC')}
    fp = dict(tp)
    fn = dict(tp)
    misses, falses = [], []
    for txt, rec in zip(txts, preds):
        gold = json.load(open(txt[:-4] + '.gold.json'))
        gset = {(norm(e['text']), e['type']) for e in gold['entities'] if e['type'] in tp}
        ignore = {norm(e['text']) for e in gold['entities'] if e['type'] not in tp}
        ignore |= {norm(e['text']) for e in gold.get('prenam', [])}
        pset = set()
        for ent in rec['entities']:
            typ = TYPES.get(ent['type'])
            if not typ:
                continue
            for m in ent['mentions']:
                pset.add((norm(m['text']), typ))
        pset = {p for p in pset if p in gset or p[0] not in ignore}
        name = os.path.basename(txt)[:40]
        for p in pset:
            if p in gset:
                tp[p[1]] += 1
            else:
                fp[p[1]] += 1
                falses.append((name, p))
        for g in gset - pset:
            fn[g[1]] += 1
            misses.append((name, g))
    if args.v:
        for n, m in misses:
            print('MISS', n, m)
        for n, f in falses:
            print('FALSE', n, f)

    def prf(a, b, c):
        p = a / (a + b) if a + b else 0.0
        r = a / (a + c) if a + c else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)
    for t in tp:
        print('%s P=%.3f R=%.3f F1=%.3f (tp %d fp %d fn %d)' % ((t,) + prf(tp[t], fp[t], fn[t]) + (tp[t], fp[t], fn[t])))
    a, b, c = sum(tp.values()), sum(fp.values()), sum(fn.values())
    p, r, f = prf(a, b, c)
    print('ALL P=%.3f R=%.3f F1=%.3f (tp %d fp %d fn %d)' % (p, r, f, a, b, c))
    return 0


if __name__ == '__main__':
    sys.exit(main())
