# SPDX-License-Identifier: BSD-3-Clause
"""Zero-copy of guest TX buffers (devarg zerocopy=auto|on|off): frames
arrive intact in every mode, buffers held by the application come back,
a stalled egress port never stops a guest's TX, and guest memory stays
mapped while an mbuf points into it (guest gone, memory table changed).

Counters come from the middle's xstats over DPDK telemetry:
rx_zc_frames, rx_zc_copied_frames, rx_zc_fallbacks, rx_zc_reclaims,
rx_zc_forced, rx_zc_inflight.
"""

import os
import re
import signal

import pytest

from lib import frames as fr
from lib import procs as P
from lib.huge import hugetlbfs
from lib.procs import Guest, PortSpec, Transfer, wait_until

STALLFWD = os.path.join(P.BUILD, "tests", "tools", "vdp-stallfwd")

pytestmark = pytest.mark.vdevpeer_only


def xstats(m, port):
    return P.telemetry(m.proc.prefix, "/ethdev/xstats,%d" % port) or {}


def stats(m, port):
    return P.telemetry(m.proc.prefix, "/ethdev/stats,%d" % port) or {}


class StallMiddle(P.Middle):
    """tests/tools/stallfwd.c with our PMD as a plugin: port 0's frames are
    held (a stalled egress) until SIGUSR1, then forwarded to port 1."""

    kind = "stall"
    pmd = True

    def __init__(self, group, ports, hold=4096, egress_vdp=False):
        super().__init__(group, ports)
        self.hold = hold
        self.egress_vdp = egress_vdp

    def argv(self, prefix):
        return ([STALLFWD] + P.EAL_COMMON + ["-m", "512", "--file-prefix", prefix]
                + P.MIDDLE_LCORES + ["-d", P.PMD_SO] + P.vdevpeer_vdevs(self.ports)
                + ["--", "--hold", str(self.hold)]
                + (["--egress-vdp"] if self.egress_vdp else []))

    def release(self):
        os.kill(self.proc.pid, signal.SIGUSR1)
        self.proc.wait_log(r"released \d+ held frames", 20)

    def mbufs_in_use(self):
        """(before close, after close) as printed at exit."""
        log = self.proc.log()
        a = re.search(r"mbufs in use: (\d+)", log)
        b = re.search(r"mbufs in use after close: (\d+)", log)
        return (int(a.group(1)) if a else None, int(b.group(1)) if b else None)


def stall_pair(procs, hold=4096, egress_vdp=False):
    if not os.path.exists(STALLFWD):
        pytest.fail("%s is not built" % STALLFWD, pytrace=False)
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    dv = {"zerocopy": "on"}
    m = StallMiddle(procs, [PortSpec(a, devargs=dv), PortSpec(b, devargs=dv)], hold,
                    egress_vdp).start()
    return m, a, b


def pair(procs, middle, mode, peer_path=False, **kw):
    """Two ports with zerocopy=mode, io between them. Zero-copy is for
    frames on the ethdev path: guest to guest, the direct path moves them
    in one copy without mbufs, so these tests turn it off unless asked."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    dv = {"zerocopy": mode}
    if not peer_path:
        kw["app_args"] = kw.get("app_args", []) + ["--no-peer-path"]
    m = middle([PortSpec(a, devargs=dv), PortSpec(b, devargs=dv)], **kw).start()
    return m, a, b


LAYOUTS = {"split": [], "packed": ["packed_vq=1"]}


@pytest.mark.parametrize("order", ["inorder", "any-order"])
@pytest.mark.parametrize("layout", ["split", "packed"])
@pytest.mark.parametrize("mode", ["auto", "on", "off"])
def test_content(procs, middle, backend, mode, layout, order):
    """Frames of 60..9000 bytes, A to B, byte-identical and in order; the
    counters say which frames went zero-copy: every frame past its header
    copy with on, the large ones with auto, none with off. IN_ORDER is
    offered in every mode: a guest that takes it (virtio_user's default,
    `inorder`) gets its chains back in the order it made them available,
    copied ones queued behind held ones (rx_zc_inorder_deferred: checked
    to happen, short frames follow long ones in a burst). One without it
    (`any-order`: in_order=0) gets held ones back out of order. Afterwards
    nothing is held. On split and on packed rings (held buffers come back
    by buffer id)."""
    m, a, b = pair(procs, middle, mode)
    frames = fr.build(fr.SIZES_ALL, 10)
    opts = {"mrg_rxbuf": 1, "extra_virtio": LAYOUTS[layout],
            "in_order": 1 if order == "inorder" else 0}
    t = Transfer(procs, m, a, b, tx_opts=opts, rx_opts=dict(opts))
    t.check(frames)
    xs = xstats(m, 0)
    big = sum(1 for f in frames if len(f) >= 2048)  # VDP_ZC_THRESH_AUTO
    over_hdr = sum(1 for f in frames if len(f) > 129)
    if mode == "on":
        assert xs["rx_zc_frames"] == over_hdr, xs
    elif mode == "auto":
        assert xs["rx_zc_frames"] == big, xs
    else:
        assert xs["rx_zc_frames"] == 0 and xs["rx_zc_copied_frames"] == 0, xs
    wait_until(lambda: xstats(m, 0)["rx_zc_inflight"] == 0, 10, "no buffer held")
    log = m.proc.log()
    negotiated = [l for l in log.splitlines() if "guest ready" in l]
    assert negotiated, "no 'guest ready' line in the middle's log"
    for line in negotiated:
        assert ("IN_ORDER" in line) == (order == "inorder"), line
    if order == "any-order" or mode == "off":
        assert xs["rx_zc_inorder_deferred"] == 0 and xs["rx_zc_inorder_waits"] == 0, xs
    else:
        # short frames (copied) taken in a burst after a long one (held)
        assert xs["rx_zc_inorder_deferred"] > 0, xs


def flood_30000(procs, m, a, layout, in_order=None):
    """A txonly guest of 1500 B frames on a; returns once the middle
    received 30000 of them."""
    tx = Guest(procs, "flood", a, fwd="txonly", extra_virtio=LAYOUTS[layout], in_order=in_order,
               extra_args=["--txpkts=1500", "--port-topology=loop"]).start()
    m.wait_ready(a)
    wait_until(lambda: stats(m, 0).get("ipackets", 0) > 30000, 60,
               "the middle receiving 30000 frames from the flooding guest",
               fail_if=m.proc.died_msg)
    return tx


@pytest.mark.parametrize("layout", ["split", "packed"])
def test_stalled_egress(procs, layout):
    """The egress holds every frame it gets (4096 of them) and never
    completes. The guest's TX goes on regardless: at most a quarter of its
    1024-entry ring is held (256), the rest is copied and given back at
    once - out of order, past the held ones (on a packed ring by buffer
    id, each used element skipping its chain's slots). After the stall
    ends, every held buffer comes back and no mbuf is left in use."""
    m, a, b = stall_pair(procs, hold=4096)
    # far more than the ring and the hold together: the guest never stalled
    tx = flood_30000(procs, m, a, layout, in_order=0)
    xs = xstats(m, 0)
    assert xs["rx_zc_inflight"] == 256, xs
    assert xs["rx_zc_fallbacks"] > 0, xs
    assert xs["rx_zc_frames"] >= 256, xs
    # the same state in the driver's telemetry (and show peer)
    peer = P.telemetry(m.proc.prefix, "/vdevpeer/peer,0")
    assert peer["zero_copy"] == 1 and peer["inflight"] == 256, peer
    m.release()
    tx.stop()
    wait_until(lambda: xstats(m, 0)["rx_zc_inflight"] == 0, 20,
               "every held buffer back", fail_if=m.proc.died_msg)
    assert xstats(m, 0)["rx_zc_forced"] == 0
    assert P.telemetry(m.proc.prefix, "/vdevpeer/peer,0")["inflight"] == 0
    assert m.stop() == 0
    assert m.mbufs_in_use() == (0, 0), m.proc.tail(20)


@pytest.mark.parametrize("layout", ["split", "packed"])
def test_stalled_egress_inorder(procs, layout):
    """An IN_ORDER guest (virtio_user's default) and an egress that holds
    every frame. Not a guest port (no egress named): nothing is attached,
    every frame is copied and given back at once, the guest never waits.
    A guest port as egress (--egress-vdp), stalled all the same: chains
    are attached and given back in order, so the in-order window fills
    with a quarter of the 1024-entry ring (256 held) and the guest waits
    (rx_zc_inorder_waits) instead of getting buffers back past the held
    ones; when the stall ends everything comes back and traffic flows."""
    m, a, b = stall_pair(procs, hold=4096)
    tx = flood_30000(procs, m, a, layout)
    xs = xstats(m, 0)
    assert xs["rx_zc_frames"] == 0 and xs["rx_zc_inflight"] == 0, xs
    assert xs["rx_zc_copied_frames"] > 30000, xs
    tx.stop()
    assert m.stop() == 0
    assert m.mbufs_in_use() == (0, 0), m.proc.tail(20)

    m, a, b = stall_pair(procs, hold=4096, egress_vdp=True)
    tx = Guest(procs, "flood2", a, fwd="txonly", extra_virtio=LAYOUTS[layout],
               extra_args=["--txpkts=1500", "--port-topology=loop"]).start()
    m.wait_ready(a)
    wait_until(lambda: xstats(m, 0)["rx_zc_inorder_waits"] > 100, 60,
               "the in-order window full, the guest waiting", fail_if=m.proc.died_msg)
    xs = xstats(m, 0)
    assert xs["rx_zc_inflight"] == 256 and xs["rx_zc_frames"] == 256, xs
    assert stats(m, 0)["ipackets"] == 256, stats(m, 0)
    m.release()
    # flowing again: far more than the window
    wait_until(lambda: stats(m, 0).get("ipackets", 0) > 30000, 60,
               "traffic after the stall", fail_if=m.proc.died_msg)
    tx.stop()
    wait_until(lambda: xstats(m, 0)["rx_zc_inflight"] == 0, 20,
               "every held buffer back", fail_if=m.proc.died_msg)
    assert xstats(m, 0)["rx_zc_forced"] == 0
    assert m.stop() == 0
    assert m.mbufs_in_use() == (0, 0), m.proc.tail(20)


def test_guest_gone_with_buffers_held(procs):
    """The sending guest is killed while the middle still holds its
    buffers. The port gives up on them after a bounded wait (rx_zc_forced)
    but keeps the guest's memory mapped: when the stall ends they reach the
    other guest intact, and the mapping is dropped only after that."""
    m, a, b = stall_pair(procs, hold=4096)
    frames = fr.build(fr.SIZES_ALL, 10)
    held_zc = sum(1 for f in frames if len(f) > 129)
    inp, out = procs.file("in.pcap"), procs.file("out.pcap")
    fr.write_pcap(inp, frames)
    rx = Guest(procs, "rx", b, tx_pcap=out, mrg_rxbuf=1).start()
    m.wait_ready(b)
    tx = Guest(procs, "tx", a, rx_pcap=inp, mbuf_size=10240, mrg_rxbuf=1, in_order=0).start()
    m.wait_ready(a)
    wait_until(lambda: stats(m, 0).get("ipackets", 0) == len(frames), 30,
               "the middle holding all %d frames" % len(frames), fail_if=m.proc.died_msg)
    assert xstats(m, 0)["rx_zc_inflight"] == held_zc
    tx.kill()
    wait_until(lambda: xstats(m, 0)["rx_zc_forced"] == held_zc, 30,
               "the port giving up on %d held buffers" % held_zc, fail_if=m.proc.died_msg)
    assert xstats(m, 0)["rx_zc_inflight"] == 0
    m.release()
    rx.wait_counter(rx.pcap_port, "TX-packets", len(frames), 30)
    m.proc.wait_log(r"guest memory mapping \d+ unmapped", 20)
    assert rx.stop() == 0
    diff = fr.compare(frames, fr.read_pcap(out))
    assert diff is None, diff
    assert m.stop() == 0
    assert m.mbufs_in_use() == (0, 0), m.proc.tail(20)


GG_PAGES = 160  # the generator's pools and rings, plus the 64 MB it grows by
run_guestgen = P.run_guestgen


@pytest.fixture
def hugedir():
    """A hugetlbfs mount of our own with GG_PAGES free 2 MB pages."""
    with hugetlbfs(GG_PAGES) as mnt:
        yield mnt


def test_memory_table_change_under_traffic(hugedir, procs, middle, backend):
    """A DPDK guest on hugepages that allocates memory while sending gets
    new hugepages mapped, and its virtio_user sends the backend a new
    memory table (librte_vhost unmaps the old one) while buffers are held
    zero-copy. Every frame that arrives is intact and in order, and the
    old mapping is dropped once nothing points into it."""
    m, a, b = pair(procs, middle, "on")
    out, summary = run_guestgen(procs, a, b,
                                ["--huge-dir", hugedir, "--single-file-segments"],
                                ["--size", "1518", "--check", "--period", "0.5", "--periods", "6",
                                 "--grow-mem", "64"])
    assert "grew memory by 64 MB: ok" in out, out
    assert summary["bad_pattern"] == 0 and summary["out_of_order"] == 0, summary
    assert min(summary["rx_pps"]) > 0, summary
    log = m.proc.log()
    maps = re.findall(r"vp0 \([^)]*\): guest memory mapped: .*registered for zero-copy", log)
    assert len(maps) >= 2, "no new memory table for the sender:\n" + m.proc.tail(60)
    assert xstats(m, 0)["rx_zc_frames"] > 0
    m.proc.wait_log(r"vp0: guest memory mapping \d+ unmapped", 20)
    assert m.stop() == 0  # before the hugetlbfs mount goes


@pytest.mark.parametrize("path", ["direct", "ethdev"])
def test_tso_stream_whole_and_worker_cycles(procs, middle, backend, path):
    """The benchmark's TSO cell as a check: a DPDK guest sends 64 KiB
    TCP/IPv4 frames for segmentation (HOST_TSO4) to a guest that takes
    them whole (GUEST_TSO4/6, LRO). Each arrives as one frame, marked GSO,
    byte-identical and in order, attached zero-copy; and the app's own
    worker accounting (/vdevpeer/fwd/lcores) counted every frame it
    received, in busy cycles that are part of all its cycles, and the same
    busy rounds again by their fill (/vdevpeer/fwd/fill)."""
    m, a, b = pair(procs, middle, "auto", peer_path=path == "direct")
    _, summary = run_guestgen(procs, a, b, ["--no-huge", "-m", "512"],
                              ["--size", "65000", "--tso", "1448", "--check", "--period", "0.5",
                               "--periods", "4"])
    assert summary["bad_pattern"] == 0 and summary["out_of_order"] == 0, summary
    assert summary["rx_pkts"] > 0 and summary["rx_gso"] == summary["rx_pkts"], summary
    assert summary["rx_bytes"] == 65000 * summary["rx_pkts"], summary
    # what did not arrive was dropped and counted by the backend, nothing else
    lost = summary["tx_pkts"] - summary["rx_pkts"]
    xs1 = xstats(m, 1)
    dropped = sum(v for k, v in xs1.items() if k.startswith("tx_drop_"))
    assert lost == dropped, (summary, xs1)
    xs0 = xstats(m, 0)
    assert xs0["rx_offload_gso_packets"] == summary["tx_pkts"], xs0
    if path == "direct":
        # one copy, guest to guest, the GSO header passed on
        # (frames taken before the receiver was ready went the ethdev way:
        # zero-copy, dropped there as not_ready)
        assert xs0["rx_peer_packets"] + xs0["rx_zc_frames"] == summary["tx_pkts"], xs0
        assert xs0["rx_peer_packets"] >= 0.9 * summary["tx_pkts"], xs0
        # every GSO frame that reached the receiver's ring: delivered, or
        # dropped there (no buffers); not those dropped before it was ready
        assert xs1["tx_offload_gso_packets"] == \
            summary["rx_pkts"] + dropped - xs1["tx_drop_not_ready"], xs1
    else:
        assert xs0["rx_zc_frames"] == summary["tx_pkts"], xs0
        assert xs0["rx_peer_packets"] == 0, xs0
    cyc = P.telemetry(m.proc.prefix, "/vdevpeer/fwd/lcores")
    workers = [v for k, v in cyc.items() if k.startswith("lcore")]
    assert cyc["tsc_hz"] > 0 and len(workers) == 1, cyc
    w = workers[0]
    assert w["frames"] == summary["tx_pkts"], (w, summary)
    assert 0 < w["busy_cycles"] <= w["cycles"], w
    # the same busy rounds by their fill (/vdevpeer/fwd/fill): each in
    # one fill of 1 .. 2 ports x a burst of 32, their rounds, cycles and
    # frames those of /vdevpeer/fwd/lcores (the traffic has ended)
    fill = P.telemetry(m.proc.prefix, "/vdevpeer/fwd/fill")
    f = [v for k, v in fill.items() if k.startswith("lcore")]
    assert len(f) == 1 and fill["tsc_hz"] == cyc["tsc_hz"], fill
    f = f[0]
    assert f["fill"] == sorted(set(f["fill"])) and all(1 <= n <= 64 for n in f["fill"]), f
    assert all(r > 0 for r in f["rounds"]), f
    assert sum(f["rounds"]) == w["busy_rounds"], (f, w)
    assert sum(f["cycles"]) == w["busy_cycles"], (f, w)
    assert sum(n * r for n, r in zip(f["fill"], f["rounds"])) == w["frames"], (f, w)
