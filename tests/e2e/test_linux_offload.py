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

And through the bridge (--fwd bridge) to a port without TSO nor checksum
offload (vp1 with csum=0): guest A's 64 KiB TSO frames, over IPv6
(fd00:60::1 -> fd00:60::2) and IPv4, are segmented by the bridge in
software (its counter sw_gso rises on vp1, drop_offload stays 0).

The transfer time is recorded (record_property "transfer_seconds"), never
asserted: docs/offload.md quotes it.
"""

import contextlib
import os
import re

import pytest

from lib.qemu import QemuGuest, middle_for_two, tcp_file
from lib.procs import APP, telemetry

pytestmark = pytest.mark.vdevpeer_only

# VDP_XFER_MB: a bigger file for a steadier throughput figure (docs/offload.md)
SIZE = int(os.environ.get("VDP_XFER_MB", "4")) * 1024 * 1024
IP_A, IP_B = "192.168.60.1", "192.168.60.2"
IP6_A, IP6_B = "fd00:60::1", "fd00:60::2"



VARIANTS = [
    # id, peerfeats (None: default), guest A device options, guest B's,
    # [options: fwd (default io), b_devargs (vp1's extra devargs), ipv6]
    ("defaults", None, "", ""),
    ("a-csum-off", None, "csum=off,guest_csum=off", ""),
    ("peerfeats-0x3", "0x3", "", ""),
    ("peerfeats-0x19c3", "0x19c3", "", ""),
    ("peerfeats-0x7fc3", "0x7fc3", "", ""),
    ("peerfeats-0", "0", "", ""),  # QNX's default: no offload (nor anything else)
    ("packed", None, "packed=on", "packed=on"),  # packed virtqueues, QEMU's offloads
    # the bridge towards a port without TSO/checksum offload: software
    # segmentation of A's TSO6 (rte_gso could not) and TSO4 frames
    ("bridge-tso6-to-csum0", None, "", "", dict(fwd="bridge", b_devargs=",csum=0", ipv6=True)),
    ("bridge-tso4-to-csum0", None, "", "", dict(fwd="bridge", b_devargs=",csum=0")),
]


def add_ipv6(guest, ip):
    """A static IPv6 address on eth0, usable at once (no duplicate
    address detection)."""
    guest.check(f"echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad && "
                f"ip -6 addr add {ip}/64 dev eth0")


@pytest.mark.parametrize("variant", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_linux_guests_tcp_file(guest_kit, tmp_path, variant, record_property, backend):
    name, peerfeats, a_opts, b_opts = variant[:4]
    opts = variant[4] if len(variant) > 4 else {}
    fwd, ipv6 = opts.get("fwd", "io"), opts.get("ipv6", False)
    extra = f",peerfeats={peerfeats}" if peerfeats else ""
    devargs = [extra, extra + opts.get("b_devargs", "")]
    with contextlib.ExitStack() as stack:
        mid, sa, sb, prefix = middle_for_two(stack, tmp_path, f"lo-{name}", APP, devargs,
                                             ["--fwd", fwd])
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
        dst = IP_B
        if ipv6:
            add_ipv6(ga, IP6_A)
            add_ipv6(gb, IP6_B)
            dst = IP6_B
        ga.poll(f"ping -c 1 -W 1 -q {dst} >/dev/null 2>&1", timeout=60, interval=0.2)

        if fwd == "bridge":
            st0 = telemetry(prefix, "/vdevpeer/bridge/stats")
        # what each port counted before the stream: frames a guest sent
        # while the other was not ready yet went the ethdev way (and were
        # dropped there, drop_paused), so the checks below take the deltas
        xs0 = [telemetry(prefix, "/ethdev/xstats,%d" % p) or {} for p in (0, 1)]
        # a transfer takes seconds (docs/offload.md): a path that drops
        # the data fails in 2 minutes, not TCP's patience
        try:
            secs, want, got = tcp_file(ga, gb, dst, SIZE, timeout=120)
        except Exception as e:
            if fwd != "bridge":
                raise
            raise AssertionError("%s\nbridge counters: %s" % (
                e, telemetry(prefix, "/vdevpeer/bridge/stats"))) from e
        record_property("transfer_seconds", round(secs, 2))
        print(f"\n[{name}] {SIZE >> 20} MiB in {secs:.1f} s ({SIZE / secs / 1e6:.2f} MB/s)")
        log = mid.output()
        feats = re.findall(r"(vp\d) \([^)]*\): offloads in use: ([^\n]*)", log)
        print("offloads in use:", feats)
        assert got == want, f"receiver's copy differs: {got} != {want}\n{mid.tail(40)}"
        assert mid.dead() is None

        if fwd == "bridge":
            st = telemetry(prefix, "/vdevpeer/bridge/stats")
            print("bridge counters:", {p: {k: v for k, v in c.items() if v}
                                       for p, c in st.items() if isinstance(c, dict)})
            # A sent TSO frames (of its address family), vp1 takes none
            # (csum=0): the bridge segmented them in software, none dropped
            tso = "HOST_TSO6" if ipv6 else "HOST_TSO4"
            assert any(vp == "vp0" and tso in f for vp, f in feats), feats
            assert st["vp1"]["sw_gso"] > st0["vp1"]["sw_gso"], (st0, st)
            for port in ("vp0", "vp1"):
                assert st[port]["drop_offload"] == 0, st

        if fwd == "io":
            # guest to guest: the direct path (one copy, no mbuf) moved the stream
            xs = [telemetry(prefix, "/ethdev/xstats,%d" % p) or {} for p in (0, 1)]
            print("direct path:", {k: x.get(k) for x in xs for k in x
                                   if "peer" in k or "gso" in k or "partial" in k})
            assert xs[0].get("rx_peer_packets", 0) > 0 and xs[1].get("rx_peer_packets", 0) > 0, xs
        if name == "defaults":
            # the kernels used partial checksums and GSO through us, and
            # every frame, GSO ones included, went the direct way
            assert any("GUEST_TSO4" in f and "HOST_TSO4" in f for _, f in feats), feats
            assert xs[0]["rx_offload_gso_packets"] > 0 and xs[1]["tx_offload_gso_packets"] > 0, xs
            for p in (0, 1):
                d = {k: xs[p][k] - xs0[p].get(k, 0)
                     for k in ("rx_peer_packets", "rx_good_packets")}
                assert d["rx_peer_packets"] == d["rx_good_packets"] > 0, (p, d, xs0[p], xs[p])
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
