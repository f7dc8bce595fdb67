# SPDX-License-Identifier: BSD-3-Clause
"""The direct guest-to-guest path (rte_pmd_vdevpeer_peer_forward, used by
`io` between two net_vdevpeer ports): one copy from the sending guest's
buffer into the receiving guest's, no mbuf.

- The same frames (60..9000 B, pcap-exact: once, byte-identical, in
  order) through the direct path and through the ethdev path
  (`--no-peer-path`), for split and packed guests, mergeable buffers on
  and off: the ports' counters (frames, bytes, size bins, drops) are the
  same either way, and {rx,tx}_peer_packets say which path moved them.
- A capture (dpdk-dumpcap) makes the path step aside while it is
  attached (it sees every frame) and the path comes back afterwards.
- A sender without CSUM has its virtio-net headers not read at all (on
  both paths): headers asking for offload work change nothing; with CSUM
  the same headers are read and refused, counted.
- A receiver without buffers: the sender's frames wait in its TX ring
  (peer_hold_us) while the receiving guest is stopped (SIGSTOP, as a
  vCPU off its CPU) and reach it once it runs again, none dropped; with
  peer_hold_us=0 they are dropped, counted; a receiver that never drains
  ends the wait after the bound, once.
"""

import os
import signal
import struct
import subprocess

import pytest

from lib import frames as fr
from lib import procs as P
from lib import vhostuser as vu
from lib.procs import PortSpec, Transfer
from test_hugepages import hugedir  # noqa: F401  (fixture)
from test_vhostuser_frontend import bring_up

ROUNDS = 10  # 120 frames: below the 1024-entry rings, nothing lost to a full ring

# xstats that must not depend on the path (per port, both directions)
SAME_KEYS = ("good_packets", "good_bytes", "size_", "drop_", "errors")


def xstats(m, port):
    return P.telemetry(m.proc.prefix, "/ethdev/xstats,%d" % port) or {}


def path_independent(xs):
    out = {}
    for k, v in xs.items():
        d, _, rest = k.partition("_")
        if d in ("rx", "tx") and any(rest.startswith(s) for s in SAME_KEYS):
            out[k] = v
    return out


CASES = [
    # (sender packed, receiver packed, mrg_rxbuf, in_order)
    (False, False, 1, 1),
    (False, False, 0, 1),
    (False, False, 1, 0),
    (True, True, 1, 1),
    (True, False, 1, 0),
    (False, True, 0, 1),
]


def run_case(procs, peer_path, tx_packed, rx_packed, mrg, in_order, tag):
    a, b = procs.sock("a%s.sock" % tag), procs.sock("b%s.sock" % tag)
    m = P.VdevpeerMiddle(procs, [PortSpec(a), PortSpec(b)],
                         app_args=[] if peer_path else ["--no-peer-path"]).start()
    frames = fr.build(fr.SIZES_ALL if mrg else fr.SIZES_STD, ROUNDS)

    def opts(packed):
        return {"in_order": in_order, "mrg_rxbuf": mrg,
                "extra_virtio": ["packed_vq=%d" % int(packed)]}

    t = Transfer(procs, m, a, b, tx_opts=opts(tx_packed), rx_opts=opts(rx_packed), tag=tag)
    t.check(frames)
    xs = (xstats(m, 0), xstats(m, 1))
    # the stream layout says which path the streams take
    assert (", direct path" in m.proc.log()) == peer_path, m.proc.tail(30)
    assert m.stop() == 0
    return frames, xs


@pytest.mark.parametrize("tx_packed,rx_packed,mrg,in_order", CASES,
                         ids=["%s-%s-mrg%d-inorder%d" % ("packed" if a else "split",
                                                         "packed" if b else "split", c, d)
                              for a, b, c, d in CASES])
def test_direct_path_exact(procs, tx_packed, rx_packed, mrg, in_order):
    frames, (d0, d1) = run_case(procs, True, tx_packed, rx_packed, mrg, in_order, "d")
    n = len(frames)
    assert d0.get("rx_peer_packets") == n, "direct path: %r of %d frames" % (
        d0.get("rx_peer_packets"), n)
    assert d1.get("tx_peer_packets") == n, d1.get("tx_peer_packets")
    assert d0.get("rx_good_bytes") == sum(len(f) for f in frames)

    _, (e0, e1) = run_case(procs, False, tx_packed, rx_packed, mrg, in_order, "e")
    assert e0.get("rx_peer_packets") == 0 and e1.get("tx_peer_packets") == 0
    for port, (d, e) in enumerate(((d0, e0), (d1, e1))):
        pd, pe = path_independent(d), path_independent(e)
        assert pd, "no counters read from port %d" % port
        diff = {k: (pd.get(k), pe.get(k)) for k in set(pd) | set(pe) if pd.get(k) != pe.get(k)}
        assert not diff, "port %d counters differ, direct vs ethdev path: %r" % (port, diff)


def test_receiver_full_counted(procs):
    """A receiver that never takes its frames (its RX ring full): every
    frame the direct path takes from the sender is counted dropped on the
    receiving port (tx_drop_no_rx_buf), none is lost uncounted, and the
    sender's ring keeps moving."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = P.VdevpeerMiddle(procs, [PortSpec(a), PortSpec(b)]).start()
    # testpmd txonly never receives: its RX ring fills once, then stays full
    rx = P.Guest(procs, "sink", b, fwd="txonly", extra_args=["--port-topology=loop"],
                 mac="02:00:00:00:dd:02").start()
    m.wait_ready(b)
    tx = P.Guest(procs, "flood", a, fwd="txonly", extra_args=["--port-topology=loop"]).start()
    m.wait_ready(a)

    def dropped():
        return xstats(m, 1).get("tx_drop_no_rx_buf", 0)

    P.wait_until(lambda: dropped() > 10000, 30, "frames dropped at the full receiver")
    assert tx.stop() == 0
    assert rx.stop() == 0
    x0, x1 = xstats(m, 0), xstats(m, 1)
    taken = x0["rx_good_packets"]
    assert x0["rx_peer_packets"] > 0
    # the frames waited (peer_hold_us, 10 ms by default) before the drops,
    # and that one wait ran out: the receiver never took a frame again
    assert x0["rx_peer_held_bursts"] > 0 and x0["rx_peer_hold_expired"] == 1, x0
    # every frame taken from the sender went to b's ring or was counted dropped
    assert x1["tx_good_packets"] + x1["tx_drop_no_rx_buf"] + x1.get("tx_drop_burst_budget", 0) \
        == taken, (x0, x1)
    assert m.stop() == 0


@pytest.mark.parametrize("hold_us", [1000000, 0], ids=["hold-1s", "hold-0"])
def test_receiver_paused(procs, hold_us):
    """The receiving guest stopped (SIGSTOP: a vCPU off its CPU) while its
    peer floods it: with peer_hold_us=1 s the frames wait in the sender's
    TX ring and every frame taken from the sender reaches the receiver,
    none dropped, the waits counted; with 0 the frames that find no buffer
    are dropped at once, counted, and nothing waits."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = P.VdevpeerMiddle(procs, [PortSpec(a, devargs={"peer_hold_us": str(hold_us)}),
                                 PortSpec(b)]).start()
    rx = P.Guest(procs, "sink", b, fwd="rxonly", queue_size=256).start()
    m.wait_ready(b)
    # bursts of 7: the receiver's ring runs out inside a burst of ours,
    # not only between two
    tx = P.Guest(procs, "flood", a, fwd="txonly",
                 extra_args=["--port-topology=loop", "--burst=7"]).start()
    m.wait_ready(a)

    def delivered():
        return xstats(m, 1).get("tx_good_packets", 0)

    def count():   # what grows while the receiver's ring is full
        return (xstats(m, 0).get("rx_peer_held_bursts", 0) if hold_us else
                xstats(m, 1).get("tx_drop_no_rx_buf", 0))

    P.wait_until(lambda: delivered() > 100000, 30, "frames flowing to the receiver")
    os.kill(rx.proc.pid, signal.SIGSTOP)
    try:
        # its ring full: nothing more delivered between two reads, and
        # the frames that find no buffer wait (or are dropped) since
        c0, last = count(), [delivered()]

        def full():
            d = delivered()
            done = d == last[0] and count() > c0
            last[0] = d
            return done

        P.wait_until(full, 10, "the stopped receiver's ring full, the sender's frames %s"
                     % ("waiting" if hold_us else "dropped"))
    finally:
        os.kill(rx.proc.pid, signal.SIGCONT)
    base = delivered()
    P.wait_until(lambda: delivered() > base + 100000, 30, "the receiver taking frames again")
    assert tx.stop() == 0
    assert rx.stop() == 0
    x0, x1 = xstats(m, 0), xstats(m, 1)
    taken = x0["rx_good_packets"]
    assert x0["rx_peer_packets"] == taken > 0
    if hold_us:
        assert x1["tx_drop_no_rx_buf"] == 0, x1
        assert x1["tx_good_packets"] == taken, (x0, x1)
        assert x0["rx_peer_held_bursts"] > 0 and x0["rx_peer_hold_expired"] == 0, x0
    else:
        assert x1["tx_drop_no_rx_buf"] > 0, x1
        assert x1["tx_good_packets"] + x1["tx_drop_no_rx_buf"] + \
            x1.get("tx_drop_burst_budget", 0) == taken, (x0, x1)
        assert x0["rx_peer_held_bursts"] == 0 and x0["rx_peer_hold_expired"] == 0, x0
    assert m.stop() == 0


def test_capture_steps_aside(procs, hugedir):  # noqa: F811
    """While dpdk-dumpcap is attached to the sending port the frames go
    through the ethdev path (the capture sees them); before and after it
    they take the direct path."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = P.HugeMiddle(procs, [PortSpec(a, devargs={"bind": "vp0"}),
                             PortSpec(b, devargs={"bind": "vp1"})], hugedir).start()
    P.Guest(procs, "rx", b, fwd="rxonly").start()
    P.Guest(procs, "tx", a, fwd="txonly", mac="02:00:00:00:cc:01").start()
    m.wait_ready(a)
    P.wait_until(lambda: xstats(m, 0).get("rx_peer_packets", 0) > 1000, 30,
                 "frames on the direct path")
    out = procs.file("vp0.pcapng")
    env = dict(os.environ, LD_PRELOAD=P.PMD_SO)
    r = subprocess.run(["dpdk-dumpcap", "--file-prefix=" + m.proc.prefix, "-i", "net_vdevpeer0",
                        "-c", "200", "-w", out], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    t = subprocess.run(["tshark", "-r", out, "-T", "fields", "-e", "eth.src"],
                       capture_output=True, text=True, timeout=60)
    assert t.returncode == 0, t.stderr
    rows = [l for l in t.stdout.splitlines() if l.strip()]
    assert len(rows) >= 200, t.stdout[-500:]
    assert all(r == "02:00:00:00:cc:01" for r in rows), rows[:5]
    # dumpcap gone: the direct path again
    base = xstats(m, 0).get("rx_peer_packets", 0)
    P.wait_until(lambda: xstats(m, 0).get("rx_peer_packets", 0) > base + 1000, 30,
                 "the direct path back after the capture")
    assert m.proc.alive()
    assert m.stop() == 0


# virtio-net header (12 bytes: flags, gso_type, hdr_len, gso_size,
# csum_start, csum_offset, num_buffers) asking for a partial checksum and
# TCPv4 segmentation, on frames that are neither TCP nor too long
ASKING_HDR = struct.pack("<BBHHHHH", 1, 1, 54, 1000, 34, 16, 0)


@pytest.mark.parametrize("csum", [False, True], ids=["no-csum", "csum"])
@pytest.mark.parametrize("peer_path", [True, False], ids=["direct", "ethdev"])
def test_header_of_a_guest_without_csum(procs, peer_path, csum):
    """A sender that negotiated no CSUM can ask for nothing in its
    virtio-net header, so the header is not read (docs/offload.md): frames
    whose headers ask for a checksum and TSO go through as plain frames,
    byte-identical, with no drop. With CSUM (and no HOST_TSO4) the same
    headers are read and the frames dropped as not negotiated, counted."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = P.VdevpeerMiddle(procs, [PortSpec(a), PortSpec(b)],
                         app_args=[] if peer_path else ["--no-peer-path"]).start()
    m.proc.wait_log(r"Forwarding started \(")
    devs = []
    try:
        A = bring_up(m, a, devs, extra_features=vu.bit(vu.F_CSUM) if csum else 0)
        B = bring_up(m, b, devs)
        assert bool(A.acked & vu.bit(vu.F_CSUM)) == csum, hex(A.acked)
        assert not A.acked & vu.bit(vu.F_HOST_TSO4), hex(A.acked)
        B.post_rx_buffers(100, 2048)
        frames = [fr.frame(i, size) for i, size in enumerate((60, 64, 128, 500, 1514) * 4)]
        A.send_burst(frames, hdr=ASKING_HDR)
        assert A.wait_tx_done(10), "TX buffers never came back"
        if csum:
            P.wait_until(lambda: xstats(m, 0).get("rx_drop_offload_not_negotiated") == len(frames),
                         10, "the frames dropped as not negotiated", fail_if=m.proc.died_msg)
            assert B.recv(timeout=0.3) == [], "a frame asking for TSO4 without HOST_TSO4 went on"
        else:
            got = B.recv(timeout=30, count=len(frames))
            diff = fr.compare(frames, got)
            assert diff is None, diff
        x0 = xstats(m, 0)
        drops = {k: v for k, v in x0.items() if k.startswith("rx_drop") and v}
        assert drops == ({"rx_drop_offload_not_negotiated": len(frames)} if csum else {}), drops
        assert (x0.get("rx_peer_packets", 0) > 0) == (peer_path and not csum), x0
    finally:
        for d in devs:
            d.close()
    assert m.stop() == 0
