#!/usr/bin/env bash
# Regenerate the command reference in docs/console.md from the app's own
# command table (dpdk-vdevpeer --dump-commands); the text around the
# generated block is kept. tests/e2e/test_console.py fails when they differ.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
app="${1:-$top/build/app/dpdk-vdevpeer}"
doc="$top/docs/console.md"
gen=$("$app" -- --dump-commands)
/usr/bin/python3 - "$doc" "$gen" <<'PY'
import sys
path, gen = sys.argv[1], sys.argv[2]
begin, end = "<!-- BEGIN COMMANDS -->\n", "<!-- END COMMANDS -->"
doc = open(path).read()
i, j = doc.index(begin) + len(begin), doc.index(end)
open(path, "w").write(doc[:i] + gen.strip() + "\n" + doc[j:])
PY
echo "updated $doc"
