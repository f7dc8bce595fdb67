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

rm -f build/meson-logs/testlog.junit.xml build/meson-logs/testlog.json build/e2e-junit.xml
meson test -C build --print-errorlogs
unit_rc=$?

/usr/bin/python3 -m pytest -p no:cacheprovider -v --junitxml=build/e2e-junit.xml tests/e2e "$@"
e2e_rc=$?

# The zero-copy and hostile-VMM tests again with the PMD, app and tools
# built with AddressSanitizer (build-asan/): held guest buffers, torn-down
# devices, refused messages, stuck queues and changed memory tables must
# not make anything touch freed memory. Only these tests (a few minutes;
# 200 connect cycles instead of 1000): the rest of the suite gains little
# from it.
rm -f build/e2e-asan-junit.xml
asan_rc=0
if [ $# -eq 0 ]; then
	if [ ! -f build-asan/build.ninja ]; then
		meson setup build-asan --werror -Db_sanitize=address >/dev/null || asan_rc=1
	fi
	[ $asan_rc = 0 ] && { ninja -C build-asan >/dev/null || asan_rc=1; }
	if [ $asan_rc = 0 ]; then
		ASAN_OPTIONS=detect_leaks=0 VDP_BUILD_DIR="$top/build-asan" VDP_SOAK_CYCLES=200 \
			/usr/bin/python3 -m pytest -p no:cacheprovider -v \
			--junitxml=build/e2e-asan-junit.xml tests/e2e/test_zerocopy.py \
			tests/e2e/test_hostile_vmm.py
		asan_rc=$?
	else
		echo "test: the AddressSanitizer build failed" >&2
	fi
fi

# The ASan report is expected when its run was due (no pytest arguments).
asan_report=(build/e2e-asan-junit.xml)
[ $# -eq 0 ] && asan_report=(--expect build/e2e-asan-junit.xml)
/usr/bin/python3 ci/summarize-tests.py --expect build/meson-logs/testlog.junit.xml \
	--expect build/e2e-junit.xml "${asan_report[@]}"
[ $unit_rc = 0 ] && [ $e2e_rc = 0 ] && [ $asan_rc = 0 ]
