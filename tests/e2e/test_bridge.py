# SPDX-License-Identifier: BSD-3-Clause
"""dpdk-vdevpeer --fwd bridge with DPDK virtio_user guests: the bridge's
counters match exactly what was sent, flooding reaches every other member
and never the ingress port, a static entry forwards to one port only, a
spoofed source (one of our ports' MACs) and a multicast source are dropped
and counted, learned MACs age out, and bad MAC configurations are refused.

    guest A (testpmd, sends a pcap) -- vp0 \\
    guest B (testpmd, records)      -- vp1  > dpdk-vdevpeer --fwd bridge
    guest C (testpmd, records)      -- vp2 /

The bridge's counters and MAC table are read through DPDK telemetry
(/vdevpeer/bridge/stats, /vdevpeer/bridge/macs).
"""

import pytest
from scapy.all import IP, UDP, Ether, Raw

from lib import frames as fr
from lib.procs import Guest, PortSpec, telemetry, wait_until

pytestmark = pytest.mark.vdevpeer_only

PORT_MAC = ["02:00:00:00:f0:%02x" % i for i in range(3)]   # mac= of vp0..vp2
SA = "02:00:00:00:aa:01"        # guest A's source
SB = "02:00:00:00:bb:01"        # static on vp1
UNKNOWN = "02:00:00:00:cc:01"


def frame(src, dst, seq):
    p = (Ether(src=src, dst=dst) / IP(src="10.9.0.1", dst="10.9.0.2", id=seq)
         / UDP(sport=1000 + seq, dport=9) / Raw(b"VDP-BRIDGE-%04d" % seq + bytes(40)))
    return bytes(p)


def bridge_middle(procs, middle, socks, app_args):
    ports = [PortSpec(s, devargs={"bind": "vp%d" % i, "mac": PORT_MAC[i]})
             for i, s in enumerate(socks)]
    return middle(ports, app_args=["--fwd", "bridge"] + app_args)


def tstats(m):
    return telemetry(m.proc.prefix, "/vdevpeer/bridge/stats")


def tmacs(m):
    return {e.split()[0]: e.split()[1:] for e in telemetry(m.proc.prefix, "/vdevpeer/bridge/macs")}


def test_bridge_counters_flood_static_spoof_aging(procs, backend, middle):
    socks = [procs.sock("g%d.sock" % i) for i in range(3)]
    m = bridge_middle(procs, middle, socks,
                      ["--bridge-aging", "2", "--bridge-mac", "%s@vp1" % SB]).start()
    m.proc.wait_log(r"Bridge: 3 members, MAC table of 4096 entries, aging 2 s, 1 static")
    assert "guest, vdevpeer bind vp0" in m.proc.output()

    outb, outc = procs.file("b.pcap"), procs.file("c.pcap")
    gb = Guest(procs, "B", socks[1], tx_pcap=outb).start()
    gc = Guest(procs, "C", socks[2], tx_pcap=outc).start()
    for i in (1, 2):
        m.proc.wait_log(r"(?i)Port %d \(vp%d\): link up" % (i, i), 30)

    frames = []
    frames += [frame(SA, "ff:ff:ff:ff:ff:ff", i) for i in range(4)]        # flooded
    frames += [frame(SA, "01:00:5e:00:00:01", 4)]                           # flooded
    frames += [frame(SA, UNKNOWN, 5 + i) for i in range(3)]                 # flooded
    frames += [frame(PORT_MAC[1], "ff:ff:ff:ff:ff:ff", 8 + i) for i in range(2)]  # spoof
    frames += [frame(PORT_MAC[0], UNKNOWN, 10)]                             # spoof (own port's)
    frames += [frame("01:00:00:00:00:09", UNKNOWN, 11)]                     # bad source
    frames += [frame(SA, SB, 12 + i) for i in range(5)]                     # static: B only
    frames += [frame(SA, SA, 17)]                                            # back to vp0: dropped
    inp = procs.file("a.pcap")
    fr.write_pcap(inp, frames)
    ga = Guest(procs, "A", socks[0], rx_pcap=inp, mbuf_size=4096).start()

    # SA's entry ages 2 s after A's last frame: read the table as soon as the
    # bridge has taken all of A's frames, before the slower guest counters
    def learned():
        return tmacs(m) if tstats(m)["vp0"]["rx"] == len(frames) else None
    macs = wait_until(learned, 30, "bridge took every frame of A")
    assert macs[SA][:2] == ["0", "dynamic"], macs
    assert macs[SB][:2] == ["1", "static"], macs

    gb.wait_counter(gb.pcap_port, "TX-packets", 4 + 1 + 3 + 5, 60)
    gc.wait_counter(gc.pcap_port, "TX-packets", 4 + 1 + 3, 60)

    def settled():
        st = tstats(m)
        return st if st["vp0"]["rx"] == len(frames) else None
    st = wait_until(settled, 30, "bridge counted every frame of A")
    a, b, c = st["vp0"], st["vp1"], st["vp2"]
    assert a["rx"] == 18
    assert a["learned"] == 1, st
    assert a["flooded"] == 8, st
    assert a["forwarded"] == 5, st
    assert a["drop_own_src"] == 3, st
    assert a["drop_bad_src"] == 1, st
    assert a["drop_same_port"] == 1, st
    assert a["tx"] == 0, "nothing may go back out of the ingress port: %s" % st
    assert b["tx"] == 13 and c["tx"] == 8, st
    assert b["rx"] == c["rx"] == 0

    # aging: SA (seen last when A sent) goes after 2 s; the static entry stays
    wait_until(lambda: SA not in tmacs(m), 30, "%s aged out of the MAC table" % SA)
    assert tstats(m)["aged"] >= 1
    assert SB in tmacs(m)

    ga.stop()
    gb.stop()
    gc.stop()
    # what each guest received, frame by frame: the flood and the static unicast
    got_b = fr.read_pcap(outb)
    got_c = fr.read_pcap(outc)
    assert got_b == frames[0:8] + frames[12:17]
    assert got_c == frames[0:8]
    assert m.stop() == 0
    assert "Bridge MAC table" in m.proc.output()


def test_bridge_duplicate_mac_refused(procs, backend, middle):
    socks = [procs.sock("g%d.sock" % i) for i in range(2)]
    ports = [PortSpec(s, devargs={"bind": "vp%d" % i, "mac": "02:00:00:00:00:77"})
             for i, s in enumerate(socks)]
    m = middle(ports, app_args=["--fwd", "bridge"]).start(wait_listen=False)
    rc = m.proc.wait(30)
    assert rc == 2, m.proc.tail()
    assert "ports 0 (vp0) and 1 (vp1) have the same MAC 02:00:00:00:00:77" in m.proc.output()


@pytest.mark.parametrize("arg,msg", [
    ("--bridge-mac=%s@vp1" % PORT_MAC[0], "is the MAC of one of the bridge's own ports"),
    ("--bridge-mac=01:00:5e:00:00:01@vp1", "expected a unicast MAC"),
    ("--bridge-mac=02:00:00:00:00:01@nosuch", "'nosuch' is not a bridge port"),
    ("--uplink=vp0", "is a guest, not an uplink"),
    ("--host-if=nosuch", "'nosuch' is not a net_vdevpeer port"),
])
def test_bridge_bad_config_refused(procs, backend, middle, arg, msg):
    socks = [procs.sock("g%d.sock" % i) for i in range(2)]
    m = bridge_middle(procs, middle, socks, [arg]).start(wait_listen=False)
    rc = m.proc.wait(30)
    assert rc == 2, m.proc.tail()
    assert msg in m.proc.output(), m.proc.tail()
