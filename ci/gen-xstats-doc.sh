#!/usr/bin/env bash
# Regenerate the xstats reference in docs/xstats.md from the driver's own
# counter lists (dpdk-vdevpeer --dump-xstats); the text around the
# generated block is kept. tests/e2e/test_xstats_doc.py fails when they
# differ.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
app="${1:-$top/build/app/dpdk-vdevpeer}"
doc="$top/docs/xstats.md"
gen=$("$app" -- --dump-xstats)
/usr/bin/python3 - "$doc" "$gen" <<'PY'
import sys
path, gen = sys.argv[1], sys.argv[2]
begin, end = "<!-- BEGIN XSTATS -->\n", "<!-- END XSTATS -->"
doc = open(path).read()
i, j = doc.index(begin) + len(begin), doc.index(end)
open(path, "w").write(doc[:i] + gen.strip() + "\n" + doc[j:])
PY
echo "updated $doc"
