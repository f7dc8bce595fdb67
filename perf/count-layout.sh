#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Instructions per frame of bench_layout's device side, split against
# packed, counted by valgrind's callgrind (collection on inside
# lp_device_burst_split/_packed only: the guests' side is not counted).
# The count does not move with the host's speed, which the cycle figures
# do (the same binary gives 55 cycles one minute and 85 the next): a
# change to the data path shows here first, exactly, then in alternated
# bench_layout rounds.
# Instructions are not cycles (a stall costs none here): both are needed.
#
#   perf/count-layout.sh [SIZE] [STATE] [SOURCE]
#     SIZE    frame size of the cells (64 or 1518; default 64)
#     STATE   1 (default): crash state on, as the PMD; 0: off
#     SOURCE  also print the source lines of SOURCE (a file name, e.g.
#             vdp_packed.c) costing at least 1.5 instructions per frame
#   BUILD=dir   build directory (default build); KEEP=prefix keeps
#   prefix0.cg (split) and prefix1.cg (packed) for callgrind_annotate.
#
# Frames: bench_layout moves 32 per device burst (a round that
# moves fewer is an error there). Needs valgrind; a few seconds.
set -euo pipefail

usage() { sed -n '4,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ] && usage
SIZE=${1:-64}
STATE=${2:-1}
SOURCE=${3:-}
BUILD=${BUILD:-build}
BENCH=$BUILD/perf/bench_layout
BURST=32
case "$SIZE" in ''|*[!0-9]*) usage ;; esac
case "$STATE" in 0|1) ;; *) usage ;; esac
[ -x "$BENCH" ] || { echo "count-layout: no $BENCH (ninja -C $BUILD)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "count-layout: valgrind not found (apt install valgrind)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for L in 0 1; do
	out=${KEEP:+$KEEP$L.cg}
	out=${out:-$tmp/$L.cg}
	res=$(valgrind --tool=callgrind --callgrind-out-file="$out" \
		--toggle-collect='lp_device_burst*' "$BENCH" \
		--benchmark_filter="BM_peer_layout/$SIZE/$L/$STATE\$" \
		--benchmark_min_time=0.05 2>&1) ||
		{ printf '%s\n' "$res" >&2; exit 1; }
	printf '%s\n' "$res" | grep -q '^BM_peer_layout' ||
		{ echo "count-layout: no such cell: $SIZE/$L/$STATE" >&2; exit 1; }
	# the device bursts (the only functions collection starts in);
	# callgrind names a function once, by "(id) name", then by "(id)"
	# alone, in fn= and cfn= lines alike
	calls=$(awk '/^c?fn=\([0-9]+\) lp_device_burst_(split|packed)$/ {
			id = $1; sub(/^c?fn=/, "", id); burst[id] = 1 }
		     /^cfn=/ { c = $1; sub(/^cfn=/, "", c); f = c in burst; next }
		     f && /^calls=/ { split($1, a, "="); n += a[2] } { f = 0 }
		     END { print n + 0 }' "$out")
	total=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out")
	[ "$calls" -gt 0 ] || { echo "count-layout: no burst counted" >&2; exit 1; }
	[ "$L" = 0 ] && name=split || name=packed
	awk -v n="$name" -v s="$SIZE" -v st="$STATE" -v t="$total" -v c="$calls" -v b=$BURST \
		'BEGIN { printf "%s %s B, state %s: %.1f instructions/frame (%d bursts)\n",
			 n, s, st, t / (c * b), c }'
	[ -n "$SOURCE" ] || continue
	callgrind_annotate --auto=yes --show-percs=no "$out" 2>/dev/null |
		awk -v f="$((calls * BURST))" -v src="$SOURCE" '
			/^-- Auto-annotated source:/ { on = index($0, "/" src) > 0; next }
			on && match($0, /^ *[0-9,]+ /) {
				v = substr($0, 1, RLENGTH); gsub(/[ ,]/, "", v)
				if (v / f >= 1.5)
					printf "  %6.1f %s\n", v / f, substr($0, RLENGTH + 1, 100)
			}'
done
