# SPDX-License-Identifier: BSD-3-Clause
"""Two multi-queue Linux guests (QEMU TCG, ``-smp 2``, ``queues=4``,
``mq=on``) move a file over TCP through dpdk-vdevpeer polling four queue
pairs per port. Linux enables as many pairs as it has CPUs (2 of 4); the
test then changes them with ``ethtool -L eth0 combined 1`` and ``combined
4``, moving a file each time: every copy has the sender's SHA-256, and the
middle's per-queue counters show traffic only on the pairs in use.

    guest A 192.168.62.1 (4 pairs) <-> vp0 <-> dpdk-vdevpeer (io, 4 queues)
                                   <-> vp1 <-> guest B 192.168.62.2 (4 pairs)
"""

import contextlib
import re

import pytest

from lib.procs import APP, telemetry
from lib.qemu import QemuGuest, middle_for_two, tcp_file, wait_for

pytestmark = pytest.mark.vdevpeer_only

SIZE = 2 * 1024 * 1024
IP_A, IP_B = "192.168.62.1", "192.168.62.2"


def rx_queues(prefix, port):
    st = telemetry(prefix, "/ethdev/stats,%d" % port) or {}
    return st.get("q_ipackets", [0] * 4)[:4]


def test_linux_multiqueue(guest_kit, tmp_path, record_property):
    with contextlib.ExitStack() as stack:
        mid, sa, sb, prefix = middle_for_two(stack, tmp_path, "mq", APP, ",queues=4",
                                             ["--rxq", "4", "--txq", "4"])
        guests = []
        for name, sock, ip, mac in (("guest-a", sa, IP_A, "52:54:00:62:00:01"),
                                    ("guest-b", sb, IP_B, "52:54:00:62:00:02")):
            g = QemuGuest(guest_kit, sock, tmp_path, ip=f"{ip}/24", mac=mac, name=name,
                          netdev_opts="queues=4", device_opts="mq=on",
                          extra_args=["-smp", "2"])
            stack.callback(g.close)
            guests.append(g.start())
        ga, gb = guests
        for g in guests:
            g.wait_ready(240)

        def pairs(want):
            """Both ports' latest "queue pairs in use" line says `want`
            (a line is logged on every change)."""
            def now(vp):
                got = re.findall(r"%s \([^)]*\): queue pairs in use: (\S+) \(the guest "
                                 r"set up 4" % vp, mid.output())
                return got[-1] if got else None
            wait_for(lambda: now("vp0") == want and now("vp1") == want, 60,
                     f"pairs {want} in use on both ports", alive=mid.dead)

        def move(tag):
            before = rx_queues(prefix, 0), rx_queues(prefix, 1)
            ga.poll(f"ping -c 1 -W 1 -q {IP_B} >/dev/null 2>&1", timeout=60, interval=0.2)
            secs, want, got = tcp_file(ga, gb, IP_B, SIZE)
            record_property(f"transfer_seconds_{tag}", round(secs, 2))
            assert got == want, f"[{tag}] receiver's copy differs\n{mid.tail(40)}"
            after = rx_queues(prefix, 0), rx_queues(prefix, 1)
            return [[b - a for a, b in zip(x, y)] for x, y in zip(before, after)]

        # 2 vCPUs: Linux enables 2 of the 4 pairs
        pairs("0-1")
        for g in guests:
            assert g.check("ethtool -l eth0 | tail -n 4 | grep Combined").split()[-1] == "2"
        d = move("2pairs")
        for port in (0, 1):
            assert sum(d[port][:2]) > 0 and d[port][2] == d[port][3] == 0, (port, d)

        for g in guests:
            g.check("ethtool -L eth0 combined 1")
        pairs("0")
        d = move("1pair")
        for port in (0, 1):
            assert d[port][0] > 0 and d[port][1] == d[port][2] == d[port][3] == 0, (port, d)

        for g in guests:
            g.check("ethtool -L eth0 combined 4")
        pairs("0-3")
        d = move("4pairs")
        for port in (0, 1):
            assert sum(d[port]) > 0, (port, d)
        assert mid.dead() is None
        assert not re.search(r"refused|stays stopped", mid.output()), mid.tail(40)
