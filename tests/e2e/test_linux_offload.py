# SPDX-License-Identifier: BSD-3-Clause
"""Two real Linux guests (QEMU TCG, kernel virtio-net) move a 4 MiB file
over TCP through dpdk-vdevpeer; the receiver's copy has the sender's
SHA-256. With QEMU's defaults (split rings, and packed=on) (every offload on: the kernels send partial
checksums and 64 KiB GSO frames), with one guest's device at
csum=off,guest_csum=off (QEMU still acks GUEST_TSO4/6 and ECN then: we
must ignore them), and with peerfeats 0x3 (the QNX seed's value), 0x19c3
(the QNX 7 stack's) and 0x7fc3 (the QNX maximum: its UFO bits are dropped
with a log line), and 0 (QNX's default: no offload at all).

    guest A 192.168.60.1 ⇄ vp0 ⇄ dpdk-vdevpeer (io) ⇄ vp1 ⇄ guest B 192.168.60.2

The transfer time is recorded (record_property "transfer_seconds"), never
asserted: docs/offload.md quotes it.
"""

import contextlib
import os
import re

import pytest

from lib.qemu import QemuGuest, middle_for_two, tcp_file
from lib.procs import APP

pytestmark = pytest.mark.vdevpeer_only

# VDP_XFER_MB: a bigger file for a steadier throughput figure (docs/offload.md)
SIZE = int(os.environ.get("VDP_XFER_MB", "4")) * 1024 * 1024
IP_A, IP_B = "192.168.60.1", "192.168.60.2"



VARIANTS = [
    # id, peerfeats (None: default), guest A device options, guest B's
    ("defaults", None, "", ""),
    ("a-csum-off", None, "csum=off,guest_csum=off", ""),
    ("peerfeats-0x3", "0x3", "", ""),
    ("peerfeats-0x19c3", "0x19c3", "", ""),
    ("peerfeats-0x7fc3", "0x7fc3", "", ""),
    ("peerfeats-0", "0", "", ""),  # QNX's default: no offload (nor anything else)
    ("packed", None, "packed=on", "packed=on"),  # packed virtqueues, QEMU's offloads
]


@pytest.mark.parametrize("variant", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_linux_guests_tcp_file(guest_kit, tmp_path, variant, record_property, backend):
    name, peerfeats, a_opts, b_opts = variant
    extra = f",peerfeats={peerfeats}" if peerfeats else ""
    with contextlib.ExitStack() as stack:
        mid, sa, sb, _ = middle_for_two(stack, tmp_path, f"lo-{name}", APP, extra)
        ga = QemuGuest(guest_kit, sa, tmp_path, ip=f"{IP_A}/24", mac="52:54:00:60:00:01",
                       name="guest-a", device_opts=a_opts)
        gb = QemuGuest(guest_kit, sb, tmp_path, ip=f"{IP_B}/24", mac="52:54:00:60:00:02",
                       name="guest-b", device_opts=b_opts)
        stack.callback(ga.close)
        stack.callback(gb.close)
        ga.start()
        gb.start()
        ga.wait_ready(180)
        gb.wait_ready(180)
        mid.wait_output(r"vp0 \([^)]*\): guest ready", 60)
        mid.wait_output(r"vp1 \([^)]*\): guest ready", 60)
        ga.poll(f"ping -c 1 -W 1 -q {IP_B} >/dev/null 2>&1", timeout=60, interval=0.2)

        secs, want, got = tcp_file(ga, gb, IP_B, SIZE)
        record_property("transfer_seconds", round(secs, 2))
        print(f"\n[{name}] {SIZE >> 20} MiB in {secs:.1f} s ({SIZE / secs / 1e6:.2f} MB/s)")
        log = mid.output()
        feats = re.findall(r"(vp\d) \([^)]*\): offloads in use: ([^\n]*)", log)
        print("offloads in use:", feats)
        assert got == want, f"receiver's copy differs: {got} != {want}\n{mid.tail(40)}"
        assert mid.dead() is None

        if name == "defaults":
            # the kernels used partial checksums and GSO through us
            assert any("GUEST_TSO4" in f and "HOST_TSO4" in f for _, f in feats), feats
        if name == "a-csum-off":
            assert re.search(r"vp0 \([^)]*\): guest acked .*GUEST_TSO4.* without the features", log), \
                "QEMU's GUEST_TSO4 without GUEST_CSUM was not reported as ignored"
        if name == "packed":
            # both kernels drive packed rings (virtio feature bit 34 in the
            # device's feature string), and the middle loaded them as such
            for g in (ga, gb):
                bits = g.check("cat /sys/class/net/eth0/device/features")
                assert len(bits) > 34 and bits[34] == "1", bits
            for vp in ("vp0", "vp1"):
                ready = re.findall(r"%s \([^)]*\): guest ready: .*negotiated 0x[0-9a-f]+ \(([^)]*)\)"
                                   % vp, log)
                assert ready and "RING_PACKED" in ready[-1].split(), (vp, ready)
            assert any("GUEST_TSO4" in f and "HOST_TSO4" in f for _, f in feats), feats
        if name == "peerfeats-0x7fc3":
            assert re.search(r"vp0 \([^)]*\): peerfeats 0x7fc3: GUEST_UFO HOST_UFO dropped", log), \
                "UFO bits not reported as dropped"
