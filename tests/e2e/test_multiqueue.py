# SPDX-License-Identifier: BSD-3-Clause
"""Multi-queue guests: the guest sets up N queue pairs and enables the ones
it likes (DPDK's virtio_user enables as many as testpmd configures, Linux as
many as it has CPUs); the backend serves the enabled pairs, on as many
worker lcores as it has.

Guests are stock testpmd with a virtio_user port ``queues=4``; the middle is
dpdk-vdevpeer, io forwarding port 0 (A) <-> port 1 (B), queue k <-> queue k.
"""

import re

import pytest

from lib import procs as P
from lib.procs import Guest, PortSpec

pytestmark = pytest.mark.vdevpeer_only

FRAMES = 20000


def mq_middle(middle, procs, a, b, queues_a=4, queues_b=4, nq=4, eal=None):
    ports = [PortSpec(a, devargs={"queues": queues_a}),
             PortSpec(b, devargs={"queues": queues_b})]
    return middle(ports, kind="vdevpeer", eal_args=eal or [],
                  app_args=["--rxq", str(nq), "--txq", str(nq)]).start()


def queue_stats(m, port):
    """(q_ipackets, q_opackets) of the middle's port, from telemetry."""
    st = P.telemetry(m.proc.prefix, "/ethdev/stats,%d" % port) or {}
    return st.get("q_ipackets", []), st.get("q_opackets", [])


def mq_guest(procs, name, sock, fwd, queues, nq):
    return Guest(procs, name, sock, fwd=fwd, queues=queues,
                 extra_args=["--port-topology=loop", "--rxq=%d" % nq,
                             "--txq=%d" % nq]).start()


def flow(procs, m, a, b, tx_q, rx_q, queues_a=4, queues_b=4):
    """B receives (rxonly, rx_q queues), then A floods (txonly, tx_q queues)
    until B got FRAMES frames. Returns (a's queue stats, b's, A's log)."""
    rx = mq_guest(procs, "sink", b, "rxonly", queues_b, rx_q)
    m.wait_ready(b)
    tx = mq_guest(procs, "flood", a, "txonly", queues_a, tx_q)
    m.wait_ready(a)
    rx.wait_counter(0, "RX-packets", FRAMES, timeout=60)
    assert tx.stop() == 0
    assert rx.stop() == 0
    return queue_stats(m, 0), queue_stats(m, 1), tx.proc.log()


def test_guest_enables_fewer_pairs(procs, middle):
    """Both guests set up 4 pairs and enable 2 (testpmd --rxq/--txq 2, as a
    2-vCPU Linux guest does): the device runs on the first pairs, the
    disabled ones are skipped, and the log says which pairs are in use."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = mq_middle(middle, procs, a, b)
    (a_in, _), (_, b_out), _ = flow(procs, m, a, b, 2, 2)
    assert a_in[0] > 0 and a_in[1] > 0, "A's traffic on rx queues 0/1: %s" % a_in[:4]
    assert a_in[2] == 0 and a_in[3] == 0, a_in[:4]
    assert b_out[0] + b_out[1] >= FRAMES and b_out[2] == b_out[3] == 0, b_out[:4]
    assert m.proc.count(r"queue pairs in use: 0-1 \(the guest set up 4") >= 2, m.proc.tail(40)


def test_all_four_queues(procs, middle):
    """A sends on all four queues into a 4-queue receiver: every queue of
    the middle carries frames both ways."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = mq_middle(middle, procs, a, b)
    (a_in, _), (_, b_out), _ = flow(procs, m, a, b, 4, 4)
    assert all(a_in[q] > 0 for q in range(4)), "A's rx queues: %s" % a_in[:4]
    assert all(b_out[q] > 0 for q in range(4)), "B's tx queues: %s" % b_out[:4]
    assert m.proc.count(r"queue pairs in use: 0-3 \(the guest set up 4") >= 2


def test_port_more_queues_than_guest(procs, middle):
    """Ports with queues=4 polled on 4 queues, guests with 2 pairs: the
    port's queues 2-3 have no ring and are skipped."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = mq_middle(middle, procs, a, b)
    (a_in, _), (_, b_out), _ = flow(procs, m, a, b, 2, 2, queues_a=2, queues_b=2)
    assert a_in[0] > 0 and a_in[1] > 0 and a_in[2] == a_in[3] == 0, a_in[:4]
    assert m.proc.count(r"queue pairs in use: 0-1 \(the guest set up 2") >= 2


def test_two_workers(procs, middle):
    """Two worker lcores (--lcores maps three lcores onto the two CPUs):
    the streams of the 4-queue ports are spread over both, each queue
    polled by one lcore, and all four queues forward."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = mq_middle(middle, procs, a, b, eal=["--lcores", "0@0,1@1,2@1"])
    (a_in, _), (_, b_out), _ = flow(procs, m, a, b, 4, 4)
    assert all(a_in[q] > 0 for q in range(4)), a_in[:4]
    out = m.proc.log()
    lcores = {}
    for lc, port, q in re.findall(r"lcore (\d+): rx port (\d+) \([^)]*\) queue (\d+)", out):
        lcores.setdefault((port, q), set()).add(lc)
    assert len(lcores) == 8, "8 streams expected: %s" % lcores
    assert all(len(v) == 1 for v in lcores.values()), lcores
    assert {next(iter(v)) for v in lcores.values()} == {"1", "2"}, lcores


STREAM = re.compile(r"Forward Stats for RX Port=\s*(\d+)/Queue=\s*(\d+) -> "
                    r"TX Port=\s*(\d+)/Queue=\s*(\d+) -+\s*RX-packets:\s*(\d+)\s+"
                    r"TX-packets:\s*(\d+)")


def test_guest_more_pairs_than_port(procs, middle):
    """A guest sending on 4 pairs into a port with queues=2: the TX rings of
    pairs 2-3 are read through rx queues 0-1 (folded), so every queue the
    guest sends on drains (many times its 1024 entries)."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = mq_middle(middle, procs, a, b, queues_a=2, queues_b=2, nq=2)
    (a_in, _), _, log = flow(procs, m, a, b, 4, 2, queues_b=2)
    assert a_in[0] > 0 and a_in[1] > 0, a_in[:2]
    sent = {int(s[3]): int(s[5]) for s in STREAM.findall(log)}
    assert sorted(sent) == [0, 1, 2, 3], sent
    assert all(n > 4 * 1024 for n in sent.values()), "frames sent per guest queue: %s" % sent
    for k, q in ((2, 0), (3, 1)):
        assert m.proc.count(r"guest queue pair %d: what it sends is read by rx queue %d"
                            % (k, q)) >= 1, m.proc.tail(40)



def test_show_peer_vrings(procs, request):
    """`show peer` and telemetry list every vring of a 4-pair guest on a
    port polling 2 rx queues: ready, served by which queue (folded ones
    too), positions, NUMA node and polling lcore; --numa-strict is taken
    (one node here: nothing is refused) and the port reports the guest
    memory's node."""
    from test_console import Console
    sock = procs.sock("mq.sock")
    con = Console(procs, request, ["net_vdevpeer0,peer=%s,server=1,queues=2,numa_node=0" % sock],
                  ["--fwd", "rxonly", "--rxq", "2", "--txq", "2", "--auto-start",
                   "--numa-strict"])
    # declared: the port's node before any guest came
    assert re.search(r"numa 0,", con.cmd("show port info 0"))
    g = mq_guest(procs, "flood", sock, "txonly", 4, 4)
    P.wait_until(lambda: sum(queue_stats_con(con)) >= FRAMES, 30,
                 "frames from the 4-queue guest", fail_if=g.proc.died_msg)
    out = con.cmd("show peer 0")
    assert re.search(r"NUMA node\s+0", out), out
    for v in range(8):
        kind, pair = ("tx", "rx")[v % 2 == 0], v // 2
        rx = r"vring %d\s+guest %s %d: size 1024, enabled by the guest, served by %s queue %d%s" % (
            v, kind, pair, ("rx" if v % 2 else "tx"), pair % 2 if v % 2 else pair,
            r" \(folded\)" if v % 2 and pair >= 2 else "")
        if v % 2 == 0 and pair >= 2:   # nothing sends to pairs 2-3
            rx = r"vring %d\s+guest rx %d: size 0, enabled by the guest, not served" % (v, pair)
        assert re.search(rx, out), (rx, out)
    for v in (1, 3, 5, 7):
        m = re.search(r"vring %d .*avail (\d+), used (\d+), node 0, lcore 1 \(node 0\)" % v, out)
        assert m and int(m.group(1)) > 1024, (v, out)
    tel = P.telemetry(con.prefix, "/vdevpeer/peer,0")
    assert tel["vring5_guest_tx2"][:4] == [1024, 1, 1, 0], tel["vring5_guest_tx2"]
    assert tel["vring5_guest_tx2"][6:] == [0, 1], tel["vring5_guest_tx2"]
    g.stop()


def queue_stats_con(con):
    st = P.telemetry(con.prefix, "/ethdev/stats,0") or {}
    return st.get("q_ipackets", [0])[:2]


@pytest.mark.parametrize("port_q", [4, 2], ids=["port-4q", "port-2q-folded"])
def test_four_queues_intact(procs, middle, port_q):
    """perf/vdp-guestgen as a 4-pair guest on both ports, sending on all
    four tx queues in turn and checking every frame it receives (pattern,
    and order per tx queue): with ports of 4 queues, and of 2 (pairs 2-3
    folded onto rx queues 0-1). Every frame intact, none out of order,
    every queue of the middle carries frames."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = mq_middle(middle, procs, a, b, queues_a=port_q, queues_b=port_q, nq=port_q)
    for size in (64, 1518):
        _, summary = P.run_guestgen(procs, a, b, ["--no-huge", "-m", "512"],
                                    ["--size", str(size), "--check", "--period", "0.5",
                                     "--periods", "3"], queues=4)
        assert summary["bad_pattern"] == 0 and summary["out_of_order"] == 0, summary
        assert summary["rx_pkts"] > 10000, summary
    a_in, _ = queue_stats(m, 0)
    _, b_out = queue_stats(m, 1)
    assert all(n > 0 for n in a_in[:port_q]) and all(n > 0 for n in b_out[:port_q]), (a_in, b_out)
