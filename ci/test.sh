#!/usr/bin/env bash
# Set up, build and run every test: the unit tests (meson test) and the
# end-to-end tests (pytest, real DPDK guests and a real Linux guest under
# QEMU). Ends with one line "N passed, N failed". Exit status 0 only when
# nothing failed. Extra arguments go to pytest (e.g. -k guest2guest).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash ci/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
bash ci/build.sh || { echo "0 passed, 1 failed"; exit 1; }
if ! bash ci/guest-kit.sh; then
	echo "test: the Linux guest kit could not be built; its tests will fail" >&2
fi

rm -f build/meson-logs/testlog.junit.xml build/e2e-junit.xml
meson test -C build --print-errorlogs
unit_rc=$?

/usr/bin/python3 -m pytest -p no:cacheprovider -v --junitxml=build/e2e-junit.xml tests/e2e "$@"
e2e_rc=$?

/usr/bin/python3 - <<'PY'
import sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in ("build/meson-logs/testlog.junit.xml", "build/e2e-junit.xml"):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        print(f"test: no results in {path}", file=sys.stderr)
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
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
[ $unit_rc = 0 ] && [ $e2e_rc = 0 ]
