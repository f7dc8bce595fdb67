#!/usr/bin/env bash
# The main job: set up, build, and run a demo topology on synthetic guests.
#
#   guest A (virtio_user) ⇄ vhost-user ⇄ vp0 ┐
#                                            dpdk-vdevpeer (io fwd, lcore 1)
#   guest B (virtio_user) ⇄ vhost-user ⇄ vp1 ┘
#
# Both guests are DPDK virtio_user ports in one stock dpdk-testpmd (its
# forwarding lcore on CPU 0, main lcore idle), bouncing frames between them
# in io mode after an initial burst (--tx-first), so traffic circulates
# guest A → vp0 → vp1 → guest B → guest A ... dpdk-vdevpeer prints live
# per-port stats every second. Runs DEMO_SECONDS (default 20) seconds, or
# until Ctrl-C; then prints final stats and cleans up.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${DEMO_SECONDS:-20}

bash ci/setup.sh
bash ci/build.sh

run=$(mktemp -d /run/vdevpeer-demo.XXXXXX)
app_pid= guest_pid=
cleanup() {
	for pid in $guest_pid $app_pid; do
		kill -INT "$pid" 2>/dev/null || true
	done
	for pid in $guest_pid $app_pid; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	rm -rf "$run" /var/run/dpdk/vdp-demo-sw /var/run/dpdk/vdp-demo-guests
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# dpdk-vdevpeer listens (server=1); its worker busy-polls CPU 1.
build/app/dpdk-vdevpeer --no-huge -m 512 --file-prefix vdp-demo-sw -l 0,1 --no-pci \
	--log-level "lib.vhost.*:notice" \
	--vdev "net_vdevpeer0,peer=$run/a.sock,server=1,bind=vp0" \
	--vdev "net_vdevpeer1,peer=$run/b.sock,server=1,bind=vp1" \
	-- --fwd io --stats-period 1 </dev/null &
app_pid=$!
for _ in $(seq 100); do
	[ -S "$run/a.sock" ] && [ -S "$run/b.sock" ] && break
	kill -0 "$app_pid" 2>/dev/null || { echo "demo: dpdk-vdevpeer exited" >&2; exit 1; }
	sleep 0.1
done

# The two guests: main and forwarding lcore both on CPU 0.
dpdk-testpmd --no-huge -m 512 --file-prefix vdp-demo-guests --lcores '0@0,1@0' \
	--no-pci \
	--vdev "net_virtio_user0,path=$run/a.sock,queues=1,mac=02:00:00:00:0a:01" \
	--vdev "net_virtio_user1,path=$run/b.sock,queues=1,mac=02:00:00:00:0b:01" \
	-- --forward-mode=io --tx-first --stats-period 3600 --nb-cores=1 \
	--total-num-mbufs=16384 \
	>"$run/guests.log" 2>&1 </dev/null &
guest_pid=$!

echo "demo: running for $secs s (Ctrl-C stops it earlier)"
end=$((SECONDS + secs))
while [ $SECONDS -lt $end ]; do
	kill -0 "$app_pid" 2>/dev/null || { echo "demo: dpdk-vdevpeer exited" >&2; exit 1; }
	if ! kill -0 "$guest_pid" 2>/dev/null; then
		echo "demo: the guests' testpmd exited:" >&2
		tail -20 "$run/guests.log" >&2
		exit 1
	fi
	sleep 1
done
kill -INT "$guest_pid"; wait "$guest_pid" 2>/dev/null || true; guest_pid=
kill -INT "$app_pid"; wait "$app_pid"; app_pid=
echo "demo: done"
