#!/usr/bin/env bash
# Install everything dpdk-vdevpeer needs on a fresh Debian 12 (root), then
# fetch the DPDK driver-SDK headers. Idempotent.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(
	# build
	dpdk dpdk-dev libdpdk-dev libnuma-dev libbenchmark-dev meson ninja-build
	pkg-config gcc g++ dpkg-dev
	# tests
	python3-pytest python3-scapy python3-pexpect iproute2 procps
	qemu-system-x86 busybox-static xz-utils cpio
	python3-prometheus-client
	# the libvirt test (tests/e2e/test_libvirt.py) starts its own session
	# libvirtd and virtlogd and drives them with virsh
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
	# console, capture and telemetry tests: dpdk-dumpcap and dpdk-telemetry.py
	# come with the dpdk package; tshark reads the captures back
	tshark
	# the guest-to-world test turns a veth's offloads off
	ethtool
	# fuzzing (libFuzzer) of the ring walkers, offload and message checks
	clang libclang-rt-14-dev
	# the hostile-VMM tests hold an lcore inside a burst with a debugger
	gdb
	# the service test checks the unit with systemd-analyze verify; the
	# install test builds a program against the installed header (C and C++)
	systemd binutils
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: need root to install: ${missing[*]}" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi
"$top/ci/fetch-sdk-headers.sh"
