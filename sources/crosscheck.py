#!/usr/bin/env python3
"""Cross-check lbvm manifests against published SHA-256 lists ("HASH  NAME" lines, as in live-bootstrap's
SHA256SUMS.sources). Independent of lbvm's C parser on purpose: a second reading of the same files.

  crosscheck.py --manifest M [--manifest M]... [--list FILE]... [--cover FILE]...

--list FILE   a published list: every manifest entry whose name it holds must have the identical hash
--cover FILE  a list whose every name must have exactly one manifest entry with the identical hash
Prints one line per finding and a count; exits 1 when anything disagrees.
"""
import argparse
import sys


def read_manifest(path, entries):
    for no, line in enumerate(open(path, encoding="utf-8"), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if "=" in words[1]:
            name = words[0]
            fields = dict(w.split("=", 1) for w in words[1:])
            sha = fields["sha256"]
        else:
            raise SystemExit("%s:%d: only lbvm's own format is checked here" % (path, no))
        entries.setdefault(name, []).append((sha.lower(), "%s:%d" % (path, no)))


def read_list(path):
    table = {}
    for line in open(path, encoding="utf-8"):
        words = line.split()
        if len(words) == 2:
            table[words[1]] = words[0].lower()
    return table


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", action="append", required=True)
    ap.add_argument("--list", action="append", default=[])
    ap.add_argument("--cover", action="append", default=[])
    args = ap.parse_args()
    entries = {}
    for m in args.manifest:
        read_manifest(m, entries)
    bad = 0
    for name, rows in sorted(entries.items()):
        if len(rows) > 1:
            print("DUPLICATE %s: %s" % (name, ", ".join(r[1] for r in rows)))
            bad += 1
    confirmed = set()
    for path in args.list:
        for name, sha in read_list(path).items():
            for got, where in entries.get(name, []):
                if got == sha:
                    confirmed.add(name)
                else:
                    print("MISMATCH %s at %s: manifest %s, %s says %s" % (name, where, got, path, sha))
                    bad += 1
    unconfirmed = sorted(set(entries) - confirmed)
    for name in unconfirmed:
        print("UNCONFIRMED %s: in no --list" % name)
    covered = 0
    for path in args.cover:
        for name, sha in read_list(path).items():
            rows = entries.get(name, [])
            if len(rows) == 1 and rows[0][0] == sha:
                covered += 1
            else:
                print("NOT COVERED %s from %s" % (name, path))
                bad += 1
    print("%d manifest entries, %d confirmed by a published list, %d unconfirmed, %d covered names, %d problems"
          % (len(entries), len(confirmed), len(unconfirmed), covered, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
