#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two builds of net_vdevpeer against each other, end to end, alternated.

The host under these machines changes speed over minutes (docs/
performance.md, "The host has two speeds"): two builds measured minutes
apart compare two host states, not two builds. This runs perf/run-e2e.py
once per build per round, the builds taking turns ABBA (base, new; new,
base; ...), and prints each round's worker ns per frame of every cell
with the new build's over the base's, then the median of those ratios
per cell. A ratio below 1: the new build costs less.

    python3 perf/ab-e2e.py BASE_BUILD NEW_BUILD [--rounds 6]
                           [run-e2e.py options ...]

BASE_BUILD and NEW_BUILD are meson build directories (e.g. build and a
scratch worktree's build). The other options go to run-e2e.py after
these, which they override: --workloads loop --sizes 64,1518 --rings
packed --backends vdevpeer --periods 3 --period-sec 2 --tso-size 0
--wait-quiet 10 (and always --rounds 1, --build, --out).
Each run-e2e.py report is kept in --keep DIR (default: a temporary
directory, removed). The frames per busy round are printed too: a cell
where one worker had clearly fewer than 64 was held by its guest, and its
cost per frame is then not the backend's alone. Run it A/A first (the
same build as both) to see what the host's noise is at the time: when it
is switching states the ratios of one build against itself spread from
1.1 to 2.6 (2026-12-05 00:40), and no A/B result means anything then.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_E2E = ["--workloads", "loop", "--sizes", "64,1518", "--rings", "packed",
               "--backends", "vdevpeer", "--periods", "3", "--period-sec", "2",
               "--tso-size", "0", "--wait-quiet", "10"]


def cells(path):
    """{cell label: (worker ns/frame, frames per busy round)} of a report."""
    out, head = {}, None
    with open(path) as f:
        for line in f:
            if not line.startswith("|"):
                head = None
                continue
            col = [c.strip() for c in line.strip().strip("|").split("|")]
            if head is None:
                head = col
                continue
            if set(col[0]) <= set("-: "):
                continue
            row = dict(zip(head, col))
            ns, fpr = row.get("worker ns/frame", ""), row.get("frames per busy round", "")
            try:
                out["%s %s" % (row[head[0]], row[head[1]])] = (float(ns), fpr)
            except (KeyError, ValueError):
                continue
    return out


def run(build, e2e, out, log):
    cmd = [sys.executable, os.path.join(ROOT, "perf", "run-e2e.py"), "--build", build,
           "--rounds", "1", "--out", out] + e2e
    with open(log, "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        sys.exit("ab-e2e: run-e2e.py failed (%s), its output: %s" % (build, log))
    return cells(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("base", help="meson build directory of the base build")
    ap.add_argument("new", help="meson build directory of the new build")
    ap.add_argument("--rounds", type=int, default=6, help="rounds (default 6)")
    ap.add_argument("--keep", help="keep each round's reports and logs here")
    args, e2e = ap.parse_known_args()
    for b in (args.base, args.new):
        if not os.path.isdir(b):
            sys.exit("ab-e2e: no build directory %s" % b)
    if args.rounds < 1:
        sys.exit("ab-e2e: --rounds must be at least 1")
    e2e = DEFAULT_E2E + e2e   # run-e2e.py takes an option's last value
    if "--build" in e2e or "--out" in e2e:
        sys.exit("ab-e2e: --build and --out are this script's")
    work = args.keep or tempfile.mkdtemp(prefix="ab-e2e.")
    os.makedirs(work, exist_ok=True)
    ratios = {}
    try:
        for r in range(1, args.rounds + 1):
            order = ("base", "new") if r % 2 else ("new", "base")
            got = {}
            for v in order:
                b = args.base if v == "base" else args.new
                got[v] = run(b, e2e, os.path.join(work, "%s-%d.md" % (v, r)),
                             os.path.join(work, "%s-%d.log" % (v, r)))
            for cell in sorted(set(got["base"]) & set(got["new"])):
                (bn, bf), (nn, nf) = got["base"][cell], got["new"][cell]
                q = nn / bn
                ratios.setdefault(cell, []).append(q)
                print("round %d %-20s base %7.1f ns (%s frames/round)  new %7.1f ns (%s)  "
                      "new/base %.3f" % (r, cell, bn, bf, nn, nf, q), flush=True)
        for cell, qs in sorted(ratios.items()):
            print("%-20s new/base median %.3f, new cheaper in %d of %d: %s" % (
                cell, statistics.median(qs), sum(q < 1 for q in qs), len(qs),
                " ".join("%.2f" % q for q in qs)))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
