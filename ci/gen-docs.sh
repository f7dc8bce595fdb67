#!/usr/bin/env bash
# Regenerate the generated blocks of the docs from the app's own tables:
#   docs/console.md  <!-- BEGIN COMMANDS -->  dpdk-vdevpeer -- --dump-commands
#   docs/xstats.md   <!-- BEGIN XSTATS -->    dpdk-vdevpeer -- --dump-xstats
#   docs/app.md      <!-- BEGIN OPTIONS -->   dpdk-vdevpeer -- --dump-options
#   docs/metrics.md  <!-- BEGIN METRICS -->   tools/dpdk-vdevpeer-exporter --dump-metrics
# The text around each block is kept. tests/e2e/test_console.py and
# test_xstats_doc.py / test_app_cli.py fail when a block and its source differ.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
app="${1:-$top/build/app/dpdk-vdevpeer}"

# block DOC MARKER OPTION: replace DOC's MARKER block with the app's OPTION output
block() {
	local doc="$top/docs/$1" gen
	if [ "$3" = --dump-metrics ]; then
		gen=$(/usr/bin/python3 "$top/tools/dpdk-vdevpeer-exporter" --dump-metrics)
	else
		gen=$("$app" -- "$3")
	fi
	/usr/bin/python3 - "$doc" "$2" "$gen" <<'PY'
import sys
path, marker, gen = sys.argv[1:4]
begin, end = "<!-- BEGIN %s -->\n" % marker, "<!-- END %s -->" % marker
doc = open(path).read()
i, j = doc.index(begin) + len(begin), doc.index(end)
open(path, "w").write(doc[:i] + gen.strip() + "\n" + doc[j:])
PY
	echo "updated $doc"
}

block console.md COMMANDS --dump-commands
block xstats.md XSTATS --dump-xstats
block app.md OPTIONS --dump-options
block metrics.md METRICS --dump-metrics
