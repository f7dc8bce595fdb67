#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Where bench_layout's device side spends its cycles, split against packed:
# `perf record` of one cell per layout, then each device-side symbol's share
# of the device samples times the run's dev_tsc/frame (TSC cycles per frame
# of the device side). Used for the per-symbol figures in
# docs/performance.md.
#
#   perf/profile-layout.sh [SIZE] [STATE]
#     SIZE   frame size of the cells (a size bench_layout has: 64, 1518;
#            default 64)
#     STATE  1 (default): crash state on, as the PMD; 0: off
#   BUILD=dir   build directory (default build); KEEP=prefix: keep
#   prefix0.data (split) and prefix1.data (packed) for perf annotate.
#
# Sampling moves the figures (both layouts come out closer under perf than
# without it): the shares are what it is for, dev_tsc/frame without perf
# is bench_layout's own run. Runs on CPU 1. Needs perf (linux-perf).
set -euo pipefail

usage() { sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ] && usage
SIZE=${1:-64}
STATE=${2:-1}
BUILD=${BUILD:-build}
BENCH=$BUILD/perf/bench_layout
case "$SIZE" in ''|*[!0-9]*) usage ;; esac
case "$STATE" in 0|1) ;; *) usage ;; esac
[ -x "$BENCH" ] || { echo "profile-layout: no $BENCH (ninja -C $BUILD)" >&2; exit 1; }
command -v perf >/dev/null || { echo "profile-layout: perf not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# device side: the core's symbols, the inlined burst, the copies
DEV='vdp_|lp_device_burst|memmove'
for L in 0 1; do
	data=${KEEP:+$KEEP$L.data}
	data=${data:-$tmp/$L.data}
	out=$(taskset -c 1 perf record -q -o "$data" -F 10000 "$BENCH" \
		--benchmark_filter="BM_peer_layout/$SIZE/$L/$STATE\$" \
		--benchmark_min_time=2 2>&1 | grep '^BM_' || true)
	tsc=$(printf '%s\n' "$out" | sed -n 's/.*dev_tsc\/frame=\([0-9.]*\).*/\1/p')
	[ -n "$tsc" ] || { echo "profile-layout: no such cell: $SIZE/$L/$STATE" >&2; exit 1; }
	[ "$L" = 0 ] && name=split || name=packed
	printf '%s %s B, state %s: dev_tsc/frame %s (under perf)\n' "$name" "$SIZE" "$STATE" "$tsc"
	perf report -i "$data" --stdio --no-children 2>/dev/null |
		awk -v t="$tsc" -v re="$DEV" '
			/^#/ || !/%/ { next }
			$5 ~ re { p[$5] += $1 + 0; s += $1 + 0 }
			END { for (k in p) if (s > 0) printf "  %6.1f  %s\n", t * p[k] / s, k }' |
		sort -rn
done
