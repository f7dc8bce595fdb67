#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""One line "N passed, N failed, N skipped" over JUnit XML files.

usage: summarize-tests.py FILE... [--expect FILE]...

Each FILE is a JUnit report (meson's, pytest's). A report named with
--expect must exist: a missing or unreadable one counts as one failure (a
run that died before writing it). Other missing reports are skipped.
Exit status 0 when nothing failed.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET


def main(argv):
    files, expected = [], set()
    args = iter(argv[1:])
    for a in args:
        if a == "--expect":
            f = next(args, None)
            if f is None:
                print(__doc__, file=sys.stderr)
                return 2
            files.append(f)
            expected.add(f)
        else:
            files.append(a)
    passed = failed = skipped = 0
    for path in files:
        if path not in expected and not os.path.exists(path):
            continue
        # meson's JUnit has no element for a test that timed out (it reads
        # as passed); its testlog.json next to it has every result
        mlog = os.path.join(os.path.dirname(path), "testlog.json")
        if (os.path.basename(path) == "testlog.junit.xml" and os.path.exists(path)
                and os.path.exists(mlog)):
            try:
                with open(mlog) as f:
                    results = [json.loads(l).get("result") for l in f if l.strip()]
            except (OSError, ValueError):
                results = None
            if results:
                for r in results:
                    if r in ("OK", "EXPECTEDFAIL"):
                        passed += 1
                    elif r == "SKIP":
                        skipped += 1
                    else:
                        failed += 1
                continue
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError):
            print("test: no results in %s" % path, file=sys.stderr)
            failed += 1
            continue
        for tc in root.iter("testcase"):
            kinds = {c.tag for c in tc}
            if kinds & {"failure", "error"}:
                failed += 1
            elif "skipped" in kinds:
                skipped += 1
            else:
                passed += 1
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
