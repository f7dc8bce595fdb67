#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Where the time goes in one end-to-end cell of perf/run-e2e.py: the same
# two processes (dpdk-vdevpeer forwarding on CPU 1, vdp-guestgen on CPU 0),
# with `perf record` sampling one CPU for a few seconds in the middle of the
# run, then the top symbols. Used for the profiles in docs/performance.md.
#
#   perf/profile-e2e.sh SIZE BACKEND [CPU]   (RING=packed | packed-vec: the
#                                             guests of run-e2e's --rings;
#                                             MRG=0|1: their mrg_rxbuf;
#                                             KEEP=FILE: keep perf.data there,
#                                             for perf annotate; WORKLOAD=loop:
#                                             run-e2e's loop cell, a stock
#                                             testpmd guest in io mode after
#                                             start tx_first 32;
#                                             WORKLOAD=oneway: a stock
#                                             testpmd txonly guest on A,
#                                             the app forwarding to net_null;
#                                             HUGE=1: both processes on 2 MB
#                                             hugepages, as run-e2e's --huge)
#     SIZE     frame size in bytes (64..9600)
#     BACKEND  vdevpeer | vdevpeer-copy | vdevpeer-zc | vhost
#              (zerocopy=auto | off | on, or DPDK's net_vhost)
#     CPU      1 (default): the backend's worker; 0: the generator guest
#
# Needs perf (linux-perf) and a build in build/. Everything it starts is
# stopped by PID and its sockets and DPDK runtime directories are removed,
# also on failure or Ctrl-C.
set -euo pipefail

usage() { sed -n '5,25p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 2 ] || usage
SIZE=$1 BACKEND=$2 CPU=${3:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
command -v perf >/dev/null || { echo "perf not found (apt-get install linux-perf)" >&2; exit 1; }

W=$(mktemp -d /tmp/vdp-profile.XXXXXX)
TAG=vdp-prof-$$
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ -n "${HUGE_OLD:-}" ]; then
		rm -f "$W/huge/"*
		umount "$W/huge" 2>/dev/null || umount -l "$W/huge" || true
		echo "$HUGE_OLD" >/proc/sys/vm/nr_hugepages
	fi
	rm -rf "$W" "/var/run/dpdk/$TAG-app" "/var/run/dpdk/$TAG-gg"
}
trap cleanup EXIT INT TERM

case $BACKEND in
vhost)         V=(--vdev "net_vhost0,iface=$W/A.sock" --vdev "net_vhost1,iface=$W/B.sock") ;;
vdevpeer)      X="" ;;
vdevpeer-copy) X=",zerocopy=off" ;;
vdevpeer-zc)   X=",zerocopy=on" ;;
*) echo "unknown backend '$BACKEND'" >&2; usage ;;
esac
[ "$BACKEND" = vhost ] || V=(--vdev "net_vdevpeer0,peer=$W/A.sock,server=1$X"
                             --vdev "net_vdevpeer1,peer=$W/B.sock,server=1$X")
ONEWAY=$([ "${WORKLOAD:-gen}" = oneway ] && echo 1 || echo 0)
# one way: port 1 is a net_null that receives nothing (guest to host)
[ "$ONEWAY" = 0 ] || V=("${V[@]:0:2}" --vdev net_null1,no-rx=1)
HUGE_DIR=
if [ "${HUGE:-0}" = 1 ]; then
	# as run-e2e.py --huge: both processes' memory in 2 MB pages of a
	# hugetlbfs mount of ours (its HUGE_PAGES, given back at the end)
	HUGE_OLD=$(cat /proc/sys/vm/nr_hugepages)
	PAGES=$(cd "$ROOT/perf" && python3 -c 'from e2e.common import HUGE_PAGES; print(HUGE_PAGES)')
	echo $((HUGE_OLD + PAGES)) >/proc/sys/vm/nr_hugepages
	mkdir "$W/huge"
	mount -t hugetlbfs -o pagesize=2M nodev "$W/huge"
	HUGE_DIR=$W/huge
fi
# the EAL arguments of run-e2e's processes (perf/e2e/common.py)
read -r -a EAL <<<"$(cd "$ROOT/perf" && python3 -c '
import sys
from e2e.common import eal_common
print(" ".join(eal_common(sys.argv[1] or None)))' "$HUGE_DIR")"
# the guest devargs and EAL arguments of run-e2e's --rings, from
# perf/e2e/common.py; MRG=0|1 overrides the mrg_rxbuf the layout asks for
RING_ARGS=$(cd "$ROOT/perf" && python3 -c '
import sys
from e2e.common import RINGS, guest_devargs
r = sys.argv[1]
if r not in RINGS:
    sys.exit("unknown RING %r (%s)" % (r, ", ".join(RINGS)))
print(guest_devargs(r))
print(" ".join(RINGS[r][1]))' "${RING:-split}") || usage
G=$(sed -n 1p <<<"$RING_ARGS")
read -r -a GEAL <<<"$(sed -n 2p <<<"$RING_ARGS")"
[ -z "${MRG:-}" ] || G=${G/mrg_rxbuf=[01]/mrg_rxbuf=$MRG}

"$BUILD/app/dpdk-vdevpeer" "${EAL[@]}" -l 0,1 --file-prefix "$TAG-app" "${V[@]}" \
	-- --fwd io --stats-period 2 ${APP_ARGS:-} >"$W/app.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$W/A.sock" ] && { [ "$ONEWAY" = 1 ] || [ -S "$W/B.sock" ]; } && break; sleep 0.1; done
[ -S "$W/A.sock" ] || { cat "$W/app.log"; exit 1; }
if [ "${WORKLOAD:-gen}" != gen ]; then
	# a stock testpmd reading its commands from a fifo that we hold open
	mkfifo "$W/in"
	/usr/bin/dpdk-testpmd "${EAL[@]}" "${GEAL[@]}" --lcores 0@0,1@0 --file-prefix "$TAG-gg" \
		--vdev "net_virtio_user0,path=$W/A.sock,$G" \
		$([ "$ONEWAY" = 1 ] || echo --vdev "net_virtio_user1,path=$W/B.sock,$G") \
		-- -i --nb-cores=1 --burst=32 --mbuf-size=$((SIZE > 2048 ? 10240 : 2176)) \
		--txpkts="$SIZE" --total-num-mbufs=16384 \
		--forward-mode=$([ "$ONEWAY" = 1 ] && echo txonly || echo io) \
		<"$W/in" >"$W/gg.log" 2>&1 &
	GG=$!
	PIDS+=($GG)
	exec 3>"$W/in"
	for _ in $(seq 300); do grep -q 'testpmd>' "$W/gg.log" && break; sleep 0.1; done
	[ "$ONEWAY" = 1 ] && echo "start" >&3 || echo "start tx_first 32" >&3
	# traffic flows once a period line of the app shows port 0 receiving
	# (testpmd's own output to a file is block-buffered: not waited on)
	flowing() { awk '$1 == "0" && $5 > 0 { f = 1 } END { exit !f }' "$W/app.log"; }
	for _ in $(seq 300); do flowing && break; sleep 0.1; done
	flowing || { echo "no traffic through the app" >&2; cat "$W/gg.log"; exit 1; }
	sleep 3   # warm-up, as run-e2e's first period
	perf record -q -C "$CPU" -o "$W/perf.data" -- sleep 4 >/dev/null 2>&1
	echo "== $BACKEND, $SIZE B, ${WORKLOAD}, CPU $CPU ($([ "$CPU" = 1 ] && echo backend worker || echo testpmd guest))"
	grep -E '^[01] ' "$W/app.log" | tail -2
	exec 3>&-
else
	"$BUILD/perf/vdp-guestgen" "${EAL[@]}" "${GEAL[@]}" --lcores 0@0 --file-prefix "$TAG-gg" \
		--vdev "net_virtio_user0,path=$W/A.sock,$G" --vdev "net_virtio_user1,path=$W/B.sock,$G" \
		-- --size "$SIZE" --period 1 --periods 8 >"$W/gg.log" 2>&1 &
	GG=$!
	PIDS+=($GG)
	# start sampling once traffic flows (the generator prints its periods)
	for _ in $(seq 300); do grep -q '^period 2' "$W/gg.log" && break; sleep 0.1; done
	perf record -q -C "$CPU" -o "$W/perf.data" -- sleep 4 >/dev/null 2>&1
	wait "$GG" || { cat "$W/gg.log"; exit 1; }
	echo "== $BACKEND, $SIZE B, CPU $CPU ($([ "$CPU" = 1 ] && echo backend worker || echo generator guest))"
	grep '^period' "$W/gg.log" | tail -3
fi
kill -INT "${PIDS[0]}"; wait "${PIDS[0]}" || true
grep '^lcore' "$W/app.log" | tail -1
[ -n "${KEEP:-}" ] && cp "$W/perf.data" "$KEEP"
perf report -i "$W/perf.data" --no-children --sort dso,sym --percent-limit 1.5 --stdio 2>/dev/null |
	grep -v '^#' | grep -v '^$' | head -25
