# SPDX-License-Identifier: BSD-3-Clause
"""Guest to guest through the middle box: every frame arrives once,
byte-identical and in order, at sizes from 60 to 9000 bytes.

Guest A (testpmd) reads a pcap with its net_pcap port and forwards it to its
virtio_user port; the middle forwards A's port to B's; guest B (testpmd)
writes what its virtio_user port receives to a pcap.  The two files are
compared frame by frame.
"""

import re

import pytest

from lib import frames as fr
from lib.procs import Guest, PortSpec, Transfer

ROUNDS = 20  # 20 x 12 sizes = 240 frames: below the 1024-entry rings, so no
             # frame can be lost to a full ring while a guest is descheduled.


@pytest.fixture
def pair(procs, middle):
    """Middle box listening on a.sock and b.sock (server=1), forwarding
    between them."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = middle([PortSpec(a), PortSpec(b)]).start()
    return m, a, b


def test_jumbo_mergeable(procs, pair):
    """mrg_rxbuf=1 on the receiver, whose RX buffers are 2 KB mbufs: a 9000
    byte frame spans five of them."""
    m, a, b = pair
    frames = fr.build(fr.SIZES_ALL, ROUNDS)
    t = Transfer(procs, m, a, b, tx_opts={"mrg_rxbuf": 1}, rx_opts={"mrg_rxbuf": 1})
    t.check(frames)


def test_jumbo_mergeable_reverse(procs, pair):
    """Same, B to A: both directions of the middle's forwarding."""
    m, a, b = pair
    frames = fr.build(fr.SIZES_ALL, 5)
    t = Transfer(procs, m, b, a, tx_opts={"mrg_rxbuf": 1}, rx_opts={"mrg_rxbuf": 1})
    t.check(frames)


def test_no_mergeable(procs, pair):
    """mrg_rxbuf=0: one RX buffer per frame, so only frames that fit one
    2 KB buffer (up to 1514 bytes)."""
    m, a, b = pair
    frames = fr.build(fr.SIZES_STD, ROUNDS)
    t = Transfer(procs, m, a, b, tx_opts={"mrg_rxbuf": 0}, rx_opts={"mrg_rxbuf": 0})
    t.check(frames)


def test_not_in_order(procs, pair):
    """in_order=0 on both guests: the backend must not rely on the guest
    returning buffers in order."""
    m, a, b = pair
    frames = fr.build(fr.SIZES_ALL, 5)
    t = Transfer(procs, m, a, b, tx_opts={"in_order": 0, "mrg_rxbuf": 1},
                 rx_opts={"in_order": 0, "mrg_rxbuf": 1})
    t.check(frames)


def test_port_counters_match_guests(procs, pair):
    """The middle's per-port packet counters agree with what the guests
    saw: tx of the receiving port == frames the receiver got (frames
    dropped for lack of guest RX buffers are drops, not tx), rx of the
    sending port == frames the sender queued.  A flood into a slower
    receiver makes sure there are drops to get wrong."""
    m, a, b = pair
    rx = Guest(procs, "sink", b, fwd="rxonly", extra_args=["--port-topology=loop"]).start()
    m.wait_ready(b)
    tx = Guest(procs, "flood", a, fwd="txonly", extra_args=["--port-topology=loop"]).start()
    m.wait_ready(a)
    rx.wait_counter(0, "RX-packets", 20000)
    assert tx.stop() == 0
    assert rx.stop() == 0
    sent = tx.fwd()[0]["TX-packets"]
    got = rx.fwd()[0]["RX-packets"]
    assert m.stop() == 0
    st = m.final_stats()
    assert st, "no final per-port statistics found in the middle's log"
    assert st[1]["tx"] == got, "middle says %d sent to the receiver, receiver got %d" % (st[1]["tx"], got)
    # frames still in the sender's ring when it stopped may be unread
    assert sent - 1024 <= st[0]["rx"] <= sent, "sender queued %d, middle received %d" % (sent, st[0]["rx"])


# Packed virtqueues (virtio 1.1 2.7): DPDK's virtio_user with packed_vq=1,
# on one side or both, in_order and mrg_rxbuf on and off.
PACKED_CASES = [
    # (sender packed, receiver packed, in_order, mrg_rxbuf)
    (True, True, 1, 1),
    (True, True, 0, 1),
    (True, True, 1, 0),
    (True, True, 0, 0),
    (True, False, 1, 1),
    (False, True, 0, 1),
]


@pytest.mark.parametrize("tx_packed,rx_packed,in_order,mrg", PACKED_CASES,
                         ids=["%s-%s-inorder%d-mrg%d" % ("packed" if a else "split",
                                                         "packed" if b else "split", c, d)
                              for a, b, c, d in PACKED_CASES])
def test_packed(procs, middle, backend, tx_packed, rx_packed, in_order, mrg):
    """Every frame arrives once, byte-identical and in order, whichever
    layout each guest uses; the middle reports RING_PACKED negotiated for
    exactly the packed guests, and IN_ORDER exactly for the in_order=1
    ones (offered with zero-copy as shipped: the large frames are attached
    and given back in order)."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = middle([PortSpec(a), PortSpec(b)]).start()
    frames = fr.build(fr.SIZES_ALL if mrg else fr.SIZES_STD, ROUNDS)

    def opts(packed):
        return {"in_order": in_order, "mrg_rxbuf": mrg,
                "extra_virtio": ["packed_vq=%d" % int(packed)]}
    t = Transfer(procs, m, a, b, tx_opts=opts(tx_packed), rx_opts=opts(rx_packed))
    t.check(frames)
    if m.kind in ("vdevpeer", "plugin"):
        # "net_vdevpeer: <bind> (<socket>): guest ready: ... negotiated 0x.. (NAMES)"
        for sock, packed in ((a, tx_packed), (b, rx_packed)):
            ready = re.findall(r"\(%s\): guest ready: .*negotiated 0x[0-9a-f]+ \(([^)]*)\)"
                               % re.escape(sock), m.proc.log())
            assert ready, "no 'guest ready' line for %s" % sock
            assert ("RING_PACKED" in ready[-1].split()) == packed, ready[-1]
            assert ("IN_ORDER" in ready[-1].split()) == bool(in_order), ready[-1]
