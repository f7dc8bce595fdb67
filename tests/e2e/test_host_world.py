# SPDX-License-Identifier: BSD-3-Clause
"""Guest to host and guest to world with real kernels on both ends.

Guest to host (io forwarding, --host-if):

    QEMU Linux guest 192.168.50.2 -- vhost-user -- vp0 [dpdk-vdevpeer]
        net_tap_vp0 == kernel interface vp0 192.168.50.1 (namespace H)

Guest to world (--fwd bridge, an af_packet uplink on a veth, and the
host's stack on the bridge through a host interface):

    QEMU guest 1 192.168.60.2 -- vp0 \\
    QEMU guest 2 192.168.60.3 -- vp1  > bridge -- net_af_packet0 on veth N (namespace H)
                                     |             == veth F 192.168.60.1 (namespace W)
                 net_tap_vp0 == kernel vp0 192.168.60.10 (namespace H)

dpdk-vdevpeer runs inside namespace H (ip netns exec), so its tap and the
veth's near end never appear in the host's main namespace; the far end's
kernel stack in W plays "the world". Both namespaces, and with them every
interface in them, are deleted after the test, also on failure. Pings both
ways, then TCP transfers (busybox nc in the guest, tests/e2e/lib/tcpio.py in
the namespace) whose SHA-256 must match; the guest-to-world rate is
reported (not asserted).
"""

import contextlib
import os
import re
import subprocess

import pytest

from lib.netns import Netns, short_name, veth_between
from lib import procs as P
from lib.procs import APP, EAL_COMMON, MIDDLE_LCORES, telemetry
from lib.qemu import QemuGuest, parse_ping
pytestmark = pytest.mark.vdevpeer_only

TCPIO = os.path.join(os.path.dirname(__file__), "lib", "tcpio.py")
PY = "/usr/bin/python3"



def start_app(procs, ns, vdevs, app_args):
    prefix = procs.new_prefix("mid")
    argv = (ns.prefix() + [APP] + EAL_COMMON + ["-m", "512", "--file-prefix", prefix]
            + MIDDLE_LCORES + vdevs + ["--", "--stats-period", "1"] + app_args)
    return procs.start("middle-vdevpeer", argv, prefix=prefix)


def wait_listen(m, sock):
    # /proc/net/unix is per namespace: ask the app's log, not ours
    m.wait_log(r"\(%s\): listening" % re.escape(sock), 30)


def boot(stack, kit, sock, tmp_path, name, ip, mac):
    g = QemuGuest(kit, sock, tmp_path, ip=ip, mac=mac, role="client", name=name)
    stack.callback(g.close)
    g.start()
    return g


def ping_ok(guest, ip, n=5):
    guest.poll("ping -c 1 -W 1 -q %s >/dev/null 2>&1" % ip, timeout=60, interval=0.2)
    rc, out = guest.run("ping -c %d -i 0.2 %s" % (n, ip), timeout=120)
    assert parse_ping(out)[:2] == (n, n), out


def ns_ping_ok(ns, ip, n=3):
    out = ns.sh("busybox ping -c %d -W 5 %s" % (n, ip), timeout=120)
    assert parse_ping(out)[:2] == (n, n), out


_RES = re.compile(r"sha256 ([0-9a-f]{64}) bytes (\d+) seconds ([0-9.]+)")


def guest_to_ns(guest, ns, ip, port, kib):
    """The guest sends kib KiB of random data to ns's stack; returns
    (bytes, seconds) as measured by the receiver."""
    rx = ns.popen([PY, TCPIO, "recv", "0.0.0.0", str(port), str(kib * 1024)],
                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert rx.stdout.readline().strip() == "listening"
        out = guest.check("dd if=/dev/urandom of=/tmp/tx bs=1024 count=%d 2>/dev/null && "
                          "sha256sum /tmp/tx && nc %s %d < /tmp/tx" % (kib, ip, port),
                          timeout=600)
        want = out.split()[0]
        res, _ = rx.communicate(timeout=120)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()
    m = _RES.search(res)
    assert m, res
    assert m.group(1) == want and int(m.group(2)) == kib * 1024, (res, want)
    return int(m.group(2)), float(m.group(3))


def ns_to_guest(guest, ns, tmp_path, ip, port, kib):
    path = tmp_path / ("ns2guest-%d.bin" % port)
    path.write_bytes(os.urandom(kib * 1024))
    guest.check("rm -f /tmp/rx; nc -l -p %d </dev/null >/tmp/rx &" % port)
    out = ns.sh("%s %s send %s %d %s" % (PY, TCPIO, ip, port, path), timeout=600)
    m = _RES.search(out)
    assert m, out
    got = guest.check("wait; sha256sum /tmp/rx; echo size=$(wc -c < /tmp/rx)", timeout=120)
    sha = re.search(r"^([0-9a-f]{64}) ", got, re.M)
    size = re.search(r"^size=(\d+)$", got, re.M)
    assert sha and size, got
    assert sha.group(1) == m.group(1) and int(size.group(1)) == kib * 1024, (got, out)


def test_guest_to_host(procs, guest_kit, tmp_path):
    """A Linux guest and the host's stack on the guest's host interface vp0."""
    sock = procs.sock("g.sock")
    with contextlib.ExitStack() as stack:
        ns = stack.enter_context(Netns("h"))
        m = start_app(procs, ns, ["--vdev", "net_vdevpeer0,peer=%s,server=1,bind=vp0" % sock],
                      ["--host-if", "vp0"])
        stack.callback(m.stop)
        m.wait_log(r"Host interface vp0: port 1 \(net_tap_vp0\) for guest port 0 \(vp0\)", 30)
        m.wait_log(r"port 1: net_tap_vp0: host interface, driver net_tap", 30)
        m.wait_log(r"rx port 0 \(vp0\) queue 0 -> tx port 1 \(net_tap_vp0\)", 30)
        wait_listen(m, sock)
        ns.sh("ip addr add 192.168.50.1/24 dev vp0 && ip link set vp0 up")

        g = boot(stack, guest_kit, sock, tmp_path, "h2h-guest", "192.168.50.2/24",
                 "52:54:00:50:00:02")
        g.wait_ready(240)
        ping_ok(g, "192.168.50.1")
        ns_ping_ok(ns, "192.168.50.2")
        guest_to_ns(g, ns, "192.168.50.1", 5001, 2048)
        ns_to_guest(g, ns, tmp_path, "192.168.50.2", 5002, 1024)
        # --rx-mode adaptive (the default): the guest port and net_tap both
        # have rx interrupts, so the worker sleeps when both sides are
        # quiet, and either side wakes it: the host's ping (a frame on the
        # tap fd) and the guest's (a kick)
        def lc():
            t = P.telemetry(m.prefix, "/vdevpeer/fwd/lcores") or {}
            return [v for k, v in t.items() if k.startswith("lcore")]
        assert lc() and all(v["rx_mode"] == "adaptive" and v["polls_anyway"] == 0
                            for v in lc()), lc()
        s0 = sum(v["sleeps"] for v in lc())
        P.wait_until(lambda: sum(v["sleeps"] for v in lc()) > s0 + 3, 30,
                     "the worker asleep between exchanges")
        w0 = sum(v["wakeups"] for v in lc())
        ns_ping_ok(ns, "192.168.50.2")
        ping_ok(g, "192.168.50.1")
        assert sum(v["wakeups"] for v in lc()) > w0, lc()
        assert m.died_msg() is None
        g.close()
        assert m.stop() == 0
    # the kernel interface went with the app, the namespace with the test
    assert ns.name not in subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE,
                                         text=True).stdout


def test_guest_to_world(procs, guest_kit, tmp_path, record_property):
    """Two Linux guests and a namespace's stack behind an af_packet uplink,
    through the bridge."""
    socks = [procs.sock("g1.sock"), procs.sock("g2.sock")]
    near, far = short_name("vdpn"), short_name("vdpf")
    macs = ["52:54:00:60:00:02", "52:54:00:60:00:03"]
    with contextlib.ExitStack() as stack:
        h = stack.enter_context(Netns("wh"))
        w = stack.enter_context(Netns("ww"))
        veth_between(h, w, near, far)
        # The world's kernel would hand partial checksums and 64 KB GSO
        # frames to the veth; af_packet passes neither to DPDK intact.
        w.sh("ethtool -K %s tx off tso off gso off >/dev/null && "
             "ip addr add 192.168.60.1/24 dev %s && ip link set %s up" % (far, far, far))
        # H's own stack keeps off the near end (no IPv6 autoconfiguration
        # frames from it): only the world's and the guests' frames count.
        h.sh("ethtool -K %s tx off tso off gso off >/dev/null && "
             "sysctl -qw net.ipv6.conf.%s.disable_ipv6=1 && ip link set %s up"
             % (near, near, near))
        far_mac = w.sh("cat /sys/class/net/%s/address" % far).strip()
        vdevs = []
        for i, s in enumerate(socks):
            vdevs += ["--vdev", "net_vdevpeer%d,peer=%s,server=1,bind=vp%d" % (i, s, i)]
        vdevs += ["--vdev", "net_af_packet0,iface=%s" % near]
        m = start_app(procs, h, vdevs, ["--fwd", "bridge", "--uplink", "net_af_packet0",
                                        "--host-if", "vp0"])
        stack.callback(m.stop)
        m.wait_log(r"port 2: net_af_packet0: uplink, driver net_af_packet", 30)
        m.wait_log(r"port 3: net_tap_vp0: host interface, driver net_tap", 30)
        # the host's own stack in the segment, through the bridge member vp0
        h.sh("ip addr add 192.168.60.10/24 dev vp0 && ip link set vp0 up")
        for s in socks:
            wait_listen(m, s)

        g1 = boot(stack, guest_kit, socks[0], tmp_path, "world-guest1", "192.168.60.2/24",
                  macs[0])
        g1.wait_ready(240)
        ping_ok(g1, "192.168.60.1")
        ns_ping_ok(w, "192.168.60.2")
        # VDP_WORLD_KIB=32768 for a steadier rate than the default 2 MB
        n, secs = guest_to_ns(g1, w, "192.168.60.1", 5001,
                              int(os.environ.get("VDP_WORLD_KIB", "2048")))
        rate = n * 8 / secs / 1e6 if secs > 0 else 0
        record_property("guest_to_world_mbit_s", round(rate, 1))
        print("\nguest -> world: %d bytes in %.2f s = %.1f Mbit/s (QEMU TCG guest)"
              % (n, secs, rate))
        ns_to_guest(g1, w, tmp_path, "192.168.60.2", 5002, 1024)
        ns_ping_ok(h, "192.168.60.1")      # host interface <-> world
        ns_ping_ok(h, "192.168.60.2")      # host interface <-> guest

        # a second guest joins: reaches the world and the first guest
        g2 = boot(stack, guest_kit, socks[1], tmp_path, "world-guest2", "192.168.60.3/24",
                  macs[1])
        g2.wait_ready(240)
        ping_ok(g2, "192.168.60.1")
        ping_ok(g2, "192.168.60.2")
        ping_ok(g1, "192.168.60.3")
        ns_ping_ok(w, "192.168.60.3")
        ns_to_guest(g2, w, tmp_path, "192.168.60.3", 5003, 512)

        # the MAC table learned each end on its port
        table = {e.split()[0]: e.split()[1] for e in
                 telemetry(m.prefix, "/vdevpeer/bridge/macs")}
        assert table.get(macs[0]) == "0" and table.get(macs[1]) == "1", table
        assert table.get(far_mac) == "2", table
        st = telemetry(m.prefix, "/vdevpeer/bridge/stats")
        for port in ("vp0", "vp1", "net_af_packet0"):
            assert st[port]["learned"] >= 1, st
            assert st[port]["forwarded"] >= 1, st
            assert st[port]["drop_own_src"] == 0, st
        # the ARP requests of guest 2 and the world were flooded
        assert st["vp1"]["flooded"] >= 1 and st["net_af_packet0"]["flooded"] >= 1, st
        assert m.died_msg() is None
        g2.close()
        g1.close()
        assert m.stop() == 0
