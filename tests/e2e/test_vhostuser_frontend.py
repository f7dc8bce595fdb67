# SPDX-License-Identifier: BSD-3-Clause
"""Self-test of lib/vhostuser.py, the Python vhost-user frontend (the VMM
plus a virtio-net split-ring guest driver) that the hostile-VMM tests are
built on.

Two Python VMMs (VirtioNetDevice A and B) connect to the middle box, which
listens on a.sock and b.sock and io-forwards port 0 <-> port 1.  Frames of
60..1514 bytes (and 9000 where the RX buffers allow it) go A -> B and
B -> A: each must arrive once, byte-identical, in order.  Then both VMMs
stop (GET_VRING_BASE, close) and a second session on the same ports must
forward again; after each session the middle's fd count and its mappings
of our memfds must return to what they were before.

Also: TX chains with the header in its own descriptor and in an indirect
table; sealed memfds and a two-region memory with a hole and a non-zero
mmap_offset; the middle as vhost-user client (our VMMs listen); reset()
(RESET_OWNER, or GET_VRING_BASE + SET_STATUS 0 with PROTOCOL_F_STATUS) and
a new start() on the same connection; the raw layer (REPLY_ACK acks, a
malformed header closing the session, closed()); the remaining typed
requests, each when its protocol feature is offered.  Every test checks
that it left none of the library's fds open in this process.

The same tests run against net_vhost (VDP_BACKEND=vhost): that is what
shows the frontend speaks the protocol the way librte_vhost expects, so
that a failure against net_vdevpeer alone points at the backend.
"""

import os
import select
import struct

import pytest

from lib import frames as fr
from lib import vhostuser as vu
from lib.procs import PortSpec, wait_until

SIZES = (60, 61, 64, 128, 500, 1000, 1514)
JUMBO = 9000
MRG_BUF = 2048           # mergeable RX buffers: a 9000-byte frame takes 5
BIG_BUF = 10240          # non-mergeable RX buffers: one holds a 9000-byte frame
RX_BUFS = 200            # per device, below the 256-entry rings
N_FRAMES = 100           # 90 small + 10 jumbo: 140 mergeable buffers at most
RELEASE_TIMEOUT = 15     # the backend releases a session's resources asynchronously


def make_frames(n, seq0=0, jumbo=True):
    """n numbered frames cycling through SIZES, every 10th one 9000 bytes
    if jumbo."""
    return [fr.frame(seq0 + i, JUMBO if jumbo and i % 10 == 9 else SIZES[i % len(SIZES)])
            for i in range(n)]


def own_vhost_fds():
    """Our own fds of the kinds the library opens: sockets, eventfds,
    pipes, guest memfds."""
    return sorted(t for t in vu.proc_fd_targets(os.getpid()).values()
                  if t.startswith(("socket:", "anon_inode:[eventfd]", "pipe:", "/memfd:vdp-guest-")))


@pytest.fixture
def vmms():
    """Python VMMs of the test: closed (socket, eventfds, memfds, mappings)
    at teardown, whatever happened; then none of the library's fds may be
    left open in this process."""
    before = own_vhost_fds()
    devs = []
    yield devs
    for d in devs:
        d.close()
    assert own_vhost_fds() == before, "the test left fds open"


# What each middle prints once its ports are set up and it forwards
# (testpmd: "start packet forwarding", dpdk-vdevpeer: "Forwarding started (").
FORWARDING = r"start packet forwarding|Forwarding started \("


@pytest.fixture
def box(procs, middle):
    """The middle listening on a.sock and b.sock, io-forwarding between
    them, its start-up done: (middle, a.sock path, b.sock path)."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = middle([PortSpec(a), PortSpec(b)]).start()
    m.proc.wait_log(FORWARDING)
    return m, a, b


def up(m, d, timeout=None):
    """Start d (a VirtioNetDevice) and wait until the middle reports its
    device ready once more than before."""
    n = m.ready_count(d.path)
    d.start(timeout)
    m.wait_ready(d.path, n + 1)
    return d


def bring_up(m, sock, vmms, **opts):
    """A new VirtioNetDevice on sock, started (see up())."""
    d = vu.VirtioNetDevice(sock, **opts)
    vmms.append(d)
    return up(m, d)


def rx_buffers(d):
    d.post_rx_buffers(RX_BUFS, MRG_BUF if d.mergeable else BIG_BUF)


def transfer(src, dst, frames, what):
    """src sends frames; dst must receive exactly them, in order, once."""
    src.send_burst(frames)
    got = dst.recv(timeout=30, count=len(frames))
    diff = fr.compare(frames, got)
    assert diff is None, "%s: %s" % (what, diff)
    assert not dst.rx_errors, "%s: receiver saw bad used entries: %s" % (what, dst.rx_errors)
    assert src.wait_tx_done(10), "%s: %d TX buffers never came back from the device" % (
        what, src.tx.outstanding())
    extra = dst.recv(timeout=0.3)
    assert not extra, "%s: %d frames more than sent arrived" % (what, len(extra))


def wait_released(m, fds0, devs, what):
    """The middle's fd count back to fds0 and none of devs' memfds mapped
    or open in it (polled: librte_vhost releases asynchronously)."""
    pid = m.proc.pid

    def state():
        return (vu.proc_fds(pid),
                sum(len(vu.proc_guest_maps(pid, d.mem.memfd_prefix)) for d in devs),
                sum(len(vu.proc_guest_fds(pid, d.mem.memfd_prefix)) for d in devs))
    try:
        wait_until(lambda: state() == (fds0, 0, 0), RELEASE_TIMEOUT, what,
                   fail_if=m.proc.died_msg)
    except AssertionError as e:
        fds, maps, mfds = state()
        raise AssertionError("%s: middle has %d fds (before: %d), %d mappings and %d fds of our "
                             "guest memory\n%s" % (e, fds, fds0, maps, mfds, "\n".join(
                                 l for d in devs for l in vu.proc_guest_maps(pid, d.mem.memfd_prefix))))


def assert_mapped(m, devs):
    """While a session runs, the backend maps and holds our memfds (this
    is what makes the release check mean something)."""
    for d in devs:
        assert vu.proc_guest_maps(m.proc.pid, d.mem.memfd_prefix), \
            "middle does not map %s's guest memory during the session" % d


@pytest.mark.parametrize("event_idx", [False, True], ids=["noevidx", "evidx"])
@pytest.mark.parametrize("mergeable", [True, False], ids=["mrg", "nomrg"])
def test_two_sessions_both_ways(box, vmms, mergeable, event_idx):
    """Frames both ways, two sessions on the same ports, resources of each
    session released by the middle afterwards."""
    m, a, b = box
    fds0 = vu.proc_fds(m.proc.pid)
    A = vu.VirtioNetDevice(a, mergeable=mergeable, event_idx=event_idx)
    B = vu.VirtioNetDevice(b, mergeable=mergeable, event_idx=event_idx)
    vmms.extend((A, B))
    seq = 0
    for session in (1, 2):
        # session 2 restarts the same objects: they reconnect and lay
        # their rings out afresh in the same guest memory
        up(m, A)
        up(m, B)
        for d in (A, B):
            assert d.mergeable == mergeable and d.event_idx == event_idx, \
                "negotiated 0x%x (offered 0x%x)" % (d.acked, d.offered)
            assert d.acked & vu.bit(vu.F_PROTOCOL_FEATURES)
            rx_buffers(d)
        assert_mapped(m, (A, B))
        fwd = make_frames(N_FRAMES, seq)
        transfer(A, B, fwd, "session %d A->B" % session)
        rev = make_frames(N_FRAMES, seq + N_FRAMES)
        transfer(B, A, rev, "session %d B->A" % session)
        seq += 2 * N_FRAMES
        bases = A.stop()
        assert set(bases) == {vu.RX_VRING, vu.TX_VRING}, bases
        B.stop()
        # our memfds stay open and mapped here: only the middle's side counts
        wait_released(m, fds0, (A, B), "middle releasing session %d" % session)
    assert m.proc.alive()


@pytest.mark.parametrize("layout", ["split", "indirect"])
def test_tx_layouts(box, vmms, layout):
    """The header in its own descriptor (a 2-descriptor chain), or both in
    an indirect table (VIRTIO_F_INDIRECT_DESC negotiated)."""
    m, a, b = box
    A = bring_up(m, a, vmms, indirect=True, tx_layout=layout)
    B = bring_up(m, b, vmms, indirect=True)
    assert A.acked & vu.bit(vu.F_INDIRECT_DESC), "backend does not offer INDIRECT_DESC"
    rx_buffers(B)
    transfer(A, B, make_frames(N_FRAMES), "A->B, TX layout %s" % layout)


@pytest.mark.parametrize("memory", ["sealed", "two-regions"])
def test_memory_layouts(box, vmms, memory):
    """Sealed memfds (F_SEAL_SHRINK|F_SEAL_GROW); two regions with a hole
    between them (region 1 at 4 GiB, mmap_offset 2 MiB): rings and RX
    buffers in region 0, TX buffers in region 1, so every frame is read
    from one region and written to the other."""
    m, a, b = box
    mems = []
    try:
        if memory == "sealed":
            A = bring_up(m, a, vmms, sealed=True)
            B = bring_up(m, b, vmms, sealed=True)
        else:
            for _ in range(2):
                mems.append(vu.GuestMemory(sizes=(1 << 20, 16 << 20), gpas=(0, 1 << 32),
                                           mmap_offsets=(0, 2 << 20)))
            A = bring_up(m, a, vmms, mem=mems[0])
            B = bring_up(m, b, vmms, mem=mems[1])
            assert A.rx.desc_gpa < (1 << 20) and A.tx.desc_gpa < (1 << 20)
        for d in (A, B):
            rx_buffers(d)
        if mems:
            assert min(d.mem.region_of(g).gpa for d in (A, B) for g in d._tx_slots) == 1 << 32
            assert max(segs[-1][0] for d in (A, B) for segs in d._rx_pool) < 1 << 20
        transfer(A, B, make_frames(N_FRAMES), "A->B")
        transfer(B, A, make_frames(N_FRAMES, N_FRAMES), "B->A")
    finally:
        # memories passed in (mem=) are the caller's to close
        for mem in mems:
            mem.close()


def test_server_mode(procs, middle, vmms):
    """The middle as vhost-user client: our VMMs listen, it connects."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    A = vu.VirtioNetDevice(a, server=True)
    B = vu.VirtioNetDevice(b, server=True)
    vmms.extend((A, B))
    A.listen()
    B.listen()
    m = middle([PortSpec(a, server=False), PortSpec(b, server=False)]).start()
    for d in (A, B):
        d.start(timeout=30)
        m.wait_ready(d.path)
        rx_buffers(d)
    # the devices may be ready before the middle forwards; testpmd empties
    # its RX queues (our TX rings) when forwarding starts
    m.proc.wait_log(FORWARDING)
    transfer(A, B, make_frames(N_FRAMES), "A->B")
    transfer(B, A, make_frames(N_FRAMES, N_FRAMES), "B->A")


def test_reset_and_restart(box, vmms):
    """reset() (RESET_OWNER: protocol features, features and rings
    forgotten by the backend) then start() again on the same connection."""
    m, a, b = box
    A = bring_up(m, a, vmms)
    B = bring_up(m, b, vmms)
    for d in (A, B):
        rx_buffers(d)
    transfer(A, B, make_frames(20), "before reset")
    for d in (A, B):
        n = m.ready_count(d.path)
        d.reset()
        assert not d.conn.protocol_features
        d.start()
        m.wait_ready(d.path, n + 1)
        rx_buffers(d)
    transfer(A, B, make_frames(N_FRAMES, 20), "after reset A->B")
    transfer(B, A, make_frames(N_FRAMES, 20 + N_FRAMES), "after reset B->A")


def test_raw_messages(box, vmms):
    """The raw layer: replies, REPLY_ACK acks (0 for a good message,
    non-zero for a refused one, connection kept), a header announcing more
    payload than any message has (the backend drops the connection:
    closed()), and the port taking a new VMM afterwards."""
    m, a, b = box
    c = vu.Conn.connect(a)
    try:
        f = c.get_features()
        assert f & vu.bit(vu.F_VERSION_1) and f & vu.bit(vu.F_PROTOCOL_FEATURES), hex(f)
        pf = c.get_protocol_features()
        assert pf & vu.bit(vu.PF_REPLY_ACK), hex(pf)
        assert c.set_protocol_features(vu.bit(vu.PF_REPLY_ACK), ack=True) == 0
        assert c.reply_ack
        assert c.set_owner(ack=True) == 0
        assert c.set_features(vu.bit(vu.F_VERSION_1) | vu.bit(vu.F_PROTOCOL_FEATURES), ack=True) == 0
        assert c.set_vring_num(0, 256, ack=True) == 0
        assert c.set_vring_num(0, 3, ack=True) != 0, "queue size 3 (not a power of 2) accepted"
        assert not c.closed()
        # a raw message built by hand: GET_QUEUE_NUM, answered in kind
        c.send_raw(vu.HDR.pack(vu.GET_QUEUE_NUM, vu.VERSION, 0))
        msg = c.recv(5)
        assert msg.request == vu.GET_QUEUE_NUM and msg.flags & vu.F_REPLY and len(msg.payload) == 8
        assert not c.closed()
        c.send_raw(vu.HDR.pack(vu.SET_FEATURES, vu.VERSION, 0x10000) + bytes(8))
        assert c.wait_closed(10), "backend kept a connection whose header announces 64 KiB of payload"
        with pytest.raises(vu.ConnectionClosed):
            c.recv(5)
    finally:
        c.close()
    # the port still serves a well-behaved VMM
    A = bring_up(m, a, vmms)
    B = bring_up(m, b, vmms)
    rx_buffers(B)
    transfer(A, B, make_frames(20), "after a dropped connection")


def test_status_protocol_feature(box, vmms):
    """PROTOCOL_F_STATUS negotiated (QEMU 7.2 does not, later QEMUs do):
    the device becomes ready only with DRIVER_OK; GET_STATUS reads back
    what was set; reset() (GET_VRING_BASE on each vring, SET_STATUS 0) and
    start() again on the same connection."""
    m, a, b = box
    A = bring_up(m, a, vmms, status=True)
    B = bring_up(m, b, vmms, status=True)
    want = vu.S_ACKNOWLEDGE | vu.S_DRIVER | vu.S_FEATURES_OK | vu.S_DRIVER_OK
    for d in (A, B):
        assert d.conn.protocol_features & vu.bit(vu.PF_STATUS), "backend does not offer PROTOCOL_F_STATUS"
        assert d.conn.get_status() == want
        rx_buffers(d)
    transfer(A, B, make_frames(20), "before reset")
    for d in (A, B):
        n = m.ready_count(d.path)
        d.reset()
        assert d.conn.get_status() == 0
        d.start()
        m.wait_ready(d.path, n + 1)
        rx_buffers(d)
    transfer(A, B, make_frames(N_FRAMES, 20), "after reset A->B")
    transfer(B, A, make_frames(N_FRAMES, 20 + N_FRAMES), "after reset B->A")


ETH_P_RARP = b"\x80\x35"


def test_other_requests(box, vmms):
    """Typed helpers the bring-up does not use, on running devices, each
    only when its protocol feature is offered (as a VMM would): NET_SET_MTU
    (1500 acked 0, 10 refused), SEND_RARP, SET_LOG_BASE (LOG_SHMFD: the
    backend maps the log and answers with an empty reply); always:
    SET_VRING_ERR with an eventfd and with the NOFD bit, GET_QUEUE_NUM,
    and B's RX vring signalling a blocking eventfd of the test's given as
    call fd (call_fds).  Frames still go through frame-exact afterwards.
    (net_vhost answers SEND_RARP with a broadcast RARP from that MAC on
    the other port: such a frame is set aside.)"""
    m, a, b = box
    call = os.eventfd(0, os.EFD_CLOEXEC)           # blocking: read only when readable
    log = vu.GuestMemory(vu.PAGE)                  # the dirty log: one page
    try:
        A = bring_up(m, a, vmms, protocol_features=vu.DEFAULT_PROTOCOL_FEATURES | vu.bit(vu.PF_LOG_SHMFD))
        B = bring_up(m, b, vmms, call_fds={vu.RX_VRING: call})
        assert A.queue_num is not None and A.queue_num >= 1
        for d in (A, B):
            rx_buffers(d)
        c = A.conn
        assert c.reply_ack, "backend does not offer REPLY_ACK"
        pf = c.protocol_features
        if pf & vu.bit(vu.PF_NET_MTU):
            assert c.net_set_mtu(1500, ack=True) == 0
            assert c.net_set_mtu(10, ack=True) != 0, "MTU 10 (below 68) accepted"
        if pf & vu.bit(vu.PF_RARP):
            assert c.send_rarp("02:00:00:00:0a:01", ack=True) == 0
        efd = os.eventfd(0, os.EFD_CLOEXEC)
        try:
            assert c.set_vring_err(vu.RX_VRING, efd, ack=True) == 0
        finally:
            os.close(efd)
        assert c.set_vring_err(vu.TX_VRING, None, ack=True) == 0
        if pf & vu.bit(vu.PF_LOG_SHMFD):
            assert c.set_log_base(vu.PAGE, 0, log.regions[0].fd) == b""
        assert c.get_queue_num() == A.queue_num
        assert not c.closed()
        frames = make_frames(N_FRAMES)
        A.send_burst(frames)
        got, rarp = [], []

        def arrived():
            for f in B.recv(timeout=0):
                (rarp if f[12:14] == ETH_P_RARP else got).append(f)
            return len(got) >= len(frames)
        wait_until(arrived, 30, "%d frames at B" % len(frames))
        assert not [f for f in B.recv(timeout=0.3) if f[12:14] != ETH_P_RARP], "more frames than sent arrived"
        diff = fr.compare(frames, got)
        assert diff is None, diff
        assert len(rarp) <= 1 and all(f[6:12] == bytes.fromhex("02000000 0a01") for f in rarp), rarp
        wait_until(lambda: select.select([call], [], [], 0)[0], 5, "a call on B's RX vring")
        assert struct.unpack("<Q", os.read(call, 8))[0] >= 1
        transfer(B, A, make_frames(N_FRAMES, N_FRAMES), "B->A")
    finally:
        for d in vmms:
            d.close()
        log.close()
        os.close(call)
