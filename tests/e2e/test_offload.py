# SPDX-License-Identifier: BSD-3-Clause
"""Checksum and segmentation offload between DPDK guests, per negotiated
features, with software fallback (issue 3).

The sender is a testpmd guest in the csum engine: it reads TCP and UDP
frames (IPv4, IPv6, VLAN; up to 8000 bytes of payload) from a pcap, and
sends them on its virtio_user port with partial checksums (`csum set tcp
hw`, `csum set udp hw`) and, when its port negotiated HOST_TSO, as TSO
frames (`tso set 1448`). The receiver is a testpmd guest asking for RX
checksum and LRO offload (so its virtio_user driver acks GUEST_CSUM and
GUEST_TSO4/6 when offered); what it gets is written to a pcap, partial
checksums and GSO frames as they arrived. What each side is *offered* is
set with our peerfeats devarg on its port of dpdk-vdevpeer.

Every received frame is checked with scapy: the TCP byte stream of each
sent frame is rebuilt from its segments (sequence numbers contiguous from
the original, payload bytes identical, FIN/PSH on the last segment only),
the segment count is the one the cell calls for (1 with GUEST_TSO, else
ceil(payload / 1448) when the sender used TSO), every IPv4 header checksum
is valid, and every TCP/UDP checksum is either complete and valid (a
receiver without GUEST_CSUM) or exactly the pseudo-header sum that a
NEEDS_CSUM receiver completes (with GUEST_CSUM).
"""

import re
import struct

import pytest
from scapy.all import IP, TCP, UDP, Dot1Q, Ether, IPOption_NOP, IPv6, Raw, rdpcap, wrpcap

from lib.procs import Guest, PortSpec, wait_until

pytestmark = pytest.mark.vdevpeer_only

# virtio-net feature bits
CSUM, GUEST_CSUM, GUEST_TSO4, GUEST_TSO6, GUEST_ECN = 0, 1, 7, 8, 9
HOST_TSO4, HOST_TSO6, HOST_ECN = 11, 12, 13
BASE = sum(1 << b for b in (15, 27, 28, 29, 32, 35))  # MRG_RXBUF ANY_LAYOUT INDIRECT EVENT_IDX V1 IN_ORDER


def feats(*bits):
    return "0x%x" % (BASE | sum(1 << b for b in bits))


ALL = (CSUM, GUEST_CSUM, GUEST_TSO4, GUEST_TSO6, GUEST_ECN, HOST_TSO4, HOST_TSO6, HOST_ECN)
# sender port: what the sending guest may use towards us
S_TSO = feats(*ALL)                          # CSUM + HOST_TSO4/6
S_CSUM = feats(CSUM, GUEST_CSUM)             # partial checksums, no TSO
# receiver port: what we may use towards the receiving guest
R_NONE = feats(CSUM, HOST_TSO4, HOST_TSO6)   # no GUEST_CSUM: complete + segment in software
R_CSUM = feats(CSUM, GUEST_CSUM)             # NEEDS_CSUM, segments in software
R_TSO = feats(*ALL)                          # NEEDS_CSUM + GSO frames

MSS = 1448
SRC, DST = "02:00:00:00:0a:01", "02:00:00:00:0b:01"


def frames(big=False):
    """(scapy packet, kind) with a unique source port each. big: one 60 KB
    TCP frame too, for cells where it arrives segmented (testpmd's pcap
    writer on the receiver truncates frames at 16128 bytes)."""
    out = []
    sport = 2000
    for r in range(2):
        def pay(n, seed):
            return bytes(((seed * 31 + i * 7) & 0xFF) for i in range(n))
        specs = [
            ("tcp4", 8000), ("tcp4vlan", 3000), ("tcp6", 6000),
            ("udp4", 1000), ("udp6", 700), ("tcp4small", 100),
        ]
        if r == 0 and big:
            # 42 segments at MSS 1448: more than a burst of 32
            specs.append(("tcp4big", 60000))
        for kind, n in specs:
            sport += 1
            eth = Ether(src=SRC, dst=DST)
            if kind == "tcp4vlan":
                eth = eth / Dot1Q(vlan=100)
            if kind.endswith("6"):
                ip = IPv6(src="fd00::1", dst="fd00::2")
            else:
                ip = IP(src="10.0.0.1", dst="10.0.0.2", id=sport)
            if kind.startswith("tcp"):
                l4 = TCP(sport=sport, dport=80, seq=(0xFFFF0000 + sport * 100) & 0xFFFFFFFF, ack=1, flags="PA")
            else:
                l4 = UDP(sport=sport, dport=9)
            out.append((eth / ip / l4 / Raw(pay(n, sport)), kind))
    return out


def _sum16(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def _pseudo(pkt, proto, l4len):
    if IP in pkt:
        ph = (bytes(map(int, pkt[IP].src.split("."))) + bytes(map(int, pkt[IP].dst.split(".")))
              + struct.pack("!BBH", 0, proto, l4len))
    else:
        import socket
        ph = (socket.inet_pton(socket.AF_INET6, pkt[IPv6].src) + socket.inet_pton(socket.AF_INET6, pkt[IPv6].dst)
              + struct.pack("!IxxxB", l4len, proto))
    return _sum16(ph)


def l4_state(pkt):
    """'full' when the L4 checksum verifies, 'partial' when the field holds
    exactly the pseudo-header sum (NEEDS_CSUM), else 'bad'."""
    l3 = pkt[IP] if IP in pkt else pkt[IPv6]
    l4 = pkt[TCP] if TCP in pkt else pkt[UDP]
    proto = 6 if TCP in pkt else 17
    raw = bytes(l4)
    if IP in pkt:
        l4len = l3.len - l3.ihl * 4
    else:
        l4len = l3.plen
    raw = raw[:l4len]
    field = l4.chksum
    ph = _pseudo(pkt, proto, l4len)
    s = ph + _sum16(raw)
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    if s == 0xFFFF:
        return "full"
    if field == ph or (field == 0xFFFF and ph == 0) or (field == 0 and ph == 0xFFFF):
        return "partial"
    return "bad"


def ip4_ok(pkt):
    if IP not in pkt:
        return True
    return _sum16(bytes(pkt[IP])[:pkt[IP].ihl * 4]) == 0xFFFF


def check(sent, got, tso_used, guest_tso, guest_csum):
    """Compare what arrived with what was sent; return a list of problems."""
    problems = []
    by_port = {}
    for p in got:
        l4 = p[TCP] if TCP in p else p[UDP] if UDP in p else None
        if l4 is None:
            problems.append("received a frame without TCP/UDP: %s" % p.summary())
            continue
        by_port.setdefault(l4.sport, []).append(p)
    want_sum = "partial" if guest_csum else "full"
    for pkt, kind in sent:
        l4 = pkt[TCP] if TCP in pkt else pkt[UDP]
        segs = by_port.pop(l4.sport, [])
        payload = bytes(l4.payload)
        if not segs:
            problems.append("%s sport %d: nothing received" % (kind, l4.sport))
            continue
        for s in segs:
            st = l4_state(s)
            if st != want_sum:
                problems.append("%s sport %d: L4 checksum %s, expected %s" % (kind, l4.sport, st, want_sum))
            if not ip4_ok(s):
                problems.append("%s sport %d: bad IPv4 header checksum" % (kind, l4.sport))
            if (Dot1Q in s) != (Dot1Q in pkt):
                problems.append("%s sport %d: VLAN tag lost or added" % (kind, l4.sport))
        if UDP in pkt:
            if len(segs) != 1 or bytes(segs[0][UDP].payload) != payload:
                problems.append("%s sport %d: %d frames / payload differs" % (kind, l4.sport, len(segs)))
            continue
        n = len(payload)
        if tso_used and not guest_tso and n > MSS:
            want = (n + MSS - 1) // MSS
        else:
            want = 1
        if len(segs) != want:
            problems.append("%s sport %d: %d segments, expected %d" % (kind, l4.sport, len(segs), want))
        segs.sort(key=lambda s: (s[TCP].seq - l4.seq) & 0xFFFFFFFF)
        stream = b""
        for i, s in enumerate(segs):
            t = s[TCP]
            l3 = s[IP] if IP in s else s[IPv6]
            plen = (l3.len - l3.ihl * 4 - t.dataofs * 4) if IP in s else (l3.plen - t.dataofs * 4)
            data = bytes(t.payload)[:plen]
            if (t.seq - l4.seq) & 0xFFFFFFFF != len(stream):
                problems.append("%s sport %d: segment %d seq offset %d, expected %d" % (
                    kind, l4.sport, i, (t.seq - l4.seq) & 0xFFFFFFFF, len(stream)))
            if want > 1 and len(data) > MSS:
                problems.append("%s sport %d: segment of %d bytes > mss" % (kind, l4.sport, len(data)))
            last = i == len(segs) - 1
            if bool(t.flags & 0x08) != last:
                problems.append("%s sport %d: PSH on segment %d of %d" % (kind, l4.sport, i, len(segs)))
            stream += data
        if stream != payload:
            problems.append("%s sport %d: reassembled payload differs (%d vs %d bytes)" % (
                kind, l4.sport, len(stream), n))
    for sport, segs in by_port.items():
        problems.append("unexpected frames with sport %d (%d)" % (sport, len(segs)))
    return problems


def expected_count(sent, tso_used, guest_tso):
    n = 0
    for pkt, kind in sent:
        if TCP in pkt and tso_used and not guest_tso and len(pkt[TCP].payload) > MSS:
            n += (len(pkt[TCP].payload) + MSS - 1) // MSS
        else:
            n += 1
    return n


def _cmdfile(procs, name, lines):
    path = procs.file(name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def vp_running(middle, bind):
    """The port's guest is up in its latest negotiation (not between a
    stop and the next ready)."""
    ev = re.findall(r"net_vdevpeer: %s \([^)]*\): (guest ready|guest stopped)" % bind, middle.proc.log())
    return bool(ev) and ev[-1] == "guest ready"


SENDER_MBUF = ["--total-num-mbufs=2048"]  # of 65000 bytes: frames up to 60 KB in one mbuf


def run_cell(procs, middle, s_feats, r_feats, r_csum=True, sender_tso=True, s_csum=True,
             big=False, sent=None, s_devargs=None, app_args=None):
    """One sender features x receiver features cell. Returns (sent, got)."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    rdev = {"peerfeats": r_feats, "bind": "vp1"}
    if not r_csum:
        rdev["csum"] = "0"
    sdev = {"peerfeats": s_feats, "bind": "vp0"}
    if not s_csum:
        sdev["csum"] = "0"
    sdev.update(s_devargs or {})
    mkw = {"app_args": app_args} if app_args else {}
    m = middle([PortSpec(a, devargs=sdev), PortSpec(b, devargs=rdev)], **mkw).start()
    if sent is None:
        sent = frames(big)
    inp, out = procs.file("in.pcap"), procs.file("out.pcap")
    wrpcap(inp, [p for p, _ in sent])
    # the receiver asks for every RX offload its device offers (as a Linux
    # guest acks every feature offered); virtio_user refuses the others
    offered = int(r_feats, 16)
    want = []
    if offered & (1 << GUEST_CSUM):
        want += ["tcp_cksum", "udp_cksum"]
        if offered & (1 << GUEST_TSO4):
            want.append("tcp_lro")
    rcmd = _cmdfile(procs, "rx.cmd", ["port stop 0"] + [
        "port config 0 rx_offload %s on" % o for o in want] + ["port start 0"])
    scmd = _cmdfile(procs, "tx.cmd", ["port stop 1", "csum set tcp hw 1", "csum set udp hw 1"]
                    + (["tso set %d 1" % MSS] if sender_tso else []) + ["port start 1"])
    rx = Guest(procs, "rx", b, tx_pcap=out, extra_args=["--cmdline-file=" + rcmd]).start()
    rx.proc.wait_log(r"packet forwarding - ports=", 60)
    wait_until(lambda: vp_running(m, "vp1"), 30, "receiver's port up", fail_if=m.proc.died_msg)
    tx = Guest(procs, "tx", a, rx_pcap=inp, fwd="csum", mbuf_size=65000,
               extra_args=SENDER_MBUF + ["--cmdline-file=" + scmd]).start()
    return m, rx, tx, sent, out


def finish(m, rx, tx, sent, out, n_expected):
    try:
        rx.wait_counter(rx.pcap_port, "TX-packets", n_expected, 60)
    finally:
        tx.stop()
        rx.stop()
    got = rdpcap(out)
    return got


CELLS = [
    # id, sender port, receiver port, receiver csum devarg, sender uses TSO,
    # expect GSO delivered whole, expect partial checksums, sender csum devarg
    ("tso-to-none", S_TSO, R_NONE, True, True, False, False, True),
    ("tso-to-csum", S_TSO, R_CSUM, True, True, False, True, True),
    ("tso-to-tso", S_TSO, R_TSO, True, True, True, True, True),
    ("tso-to-tso-csum-off", S_TSO, R_TSO, False, True, False, False, True),
    # the sender's port completes and segments on RX (as for an application
    # that does not enable RX offloads): plain frames reach the receiver
    ("tso-csum-off-to-tso", S_TSO, R_TSO, True, True, False, False, False),
    ("csum-to-none", S_CSUM, R_NONE, True, False, False, False, True),
    ("csum-to-csum", S_CSUM, R_CSUM, True, False, False, True, True),
]


@pytest.mark.parametrize("cell", CELLS, ids=[c[0] for c in CELLS])
def test_offload_cell(procs, middle, cell):
    _, s_feats, r_feats, r_csum, s_tso, guest_tso, guest_csum, s_csum = cell
    m, rx, tx, sent, out = run_cell(procs, middle, s_feats, r_feats, r_csum, s_tso, s_csum,
                                    big=s_tso and not guest_tso)
    n = expected_count(sent, s_tso, guest_tso)
    got = finish(m, rx, tx, sent, out, n)
    problems = check(sent, got, s_tso, guest_tso, guest_csum)
    assert not problems, "\n".join(problems[:30])
    assert len(got) == n
    # the sender really used the offloads the cell is about
    log = m.proc.log()
    assert re.search(r"vp0 \([^)]*\): offloads in use: CSUM", log), "sender did not negotiate CSUM"
    if s_tso:
        assert re.search(r"vp0 \([^)]*\): offloads in use: CSUM HOST_TSO4 HOST_TSO6", log)
    assert m.stop() == 0


def test_offload_to_other_port(procs, middle):
    """Egress to a port that is not net_vdevpeer and has no offload at all
    (net_pcap writing a file, as an uplink without checksum/TSO would be):
    the app segments and checksums in software (rte_pmd_vdevpeer_tx_sw_offload
    after rte_eth_tx_prepare); every frame in the file is complete."""
    from lib.procs import telemetry
    a = procs.sock("a.sock")
    out = procs.file("egress.pcap")
    m = middle([PortSpec(a, devargs={"peerfeats": S_TSO, "bind": "vp0"})],
               eal_args=["--vdev", "net_pcap0,tx_pcap=" + out]).start()
    sent = frames(big=True)
    inp = procs.file("in.pcap")
    wrpcap(inp, [p for p, _ in sent])
    scmd = _cmdfile(procs, "tx.cmd", ["port stop 1", "csum set tcp hw 1", "csum set udp hw 1",
                                      "tso set %d 1" % MSS, "port start 1"])
    tx = Guest(procs, "tx", a, rx_pcap=inp, fwd="csum", mbuf_size=65000,
               extra_args=SENDER_MBUF + ["--cmdline-file=" + scmd]).start()
    n = expected_count(sent, True, False)
    pfx = m.proc.prefix
    # net_pcap0 is port 0 (probed first)
    wait_until(lambda: (telemetry(pfx, "/ethdev/stats,0") or {}).get("opackets", 0) >= n, 60,
               "%d frames out of the pcap port" % n, fail_if=m.proc.died_msg)
    tx.stop()
    assert m.stop() == 0
    got = rdpcap(out)
    problems = check(sent, got, True, False, False)
    assert not problems, "\n".join(problems[:30])
    assert len(got) == n


def _capa(tp, n):
    """The n-th 'show port 0 tx/rx_offload capabilities' answer pair:
    (rx per-port list, tx per-port list)."""
    from lib import procs as P
    for cmd in ("rx_offload", "tx_offload"):
        tp.popen.stdin.write(("show port 0 %s capabilities\n" % cmd).encode())
        tp.popen.stdin.flush()
    rx = re.compile(r"(Rx|Tx) Offloading Capabilities of port 0 :.*?Per Port\s*:([^\n]*)", re.S)
    m = P.wait_until(lambda: (lambda l: l if len(l) >= 2 * n else None)(rx.findall(tp.log())),
                     20, "offload capabilities answer %d" % n, fail_if=tp.died_msg)
    got = {k: set(v.split()) for k, v in m[2 * n - 2:2 * n]}
    return got["Rx"], got["Tx"]


def test_capabilities_follow_negotiation(procs):
    """rte_eth_dev_info offload capabilities: what is offered before a guest
    comes, what the guest negotiated once it is up, and they change when it
    renegotiates (virtio_user acks GUEST_CSUM/GUEST_TSO only once its
    application asks for RX checksum/LRO offload)."""
    from lib import procs as P
    sock = procs.sock("c.sock")
    prefix = procs.new_prefix("capa")
    argv = (["stdbuf", "-oL", P.TESTPMD, "-d", P.PMD_SO] + P.EAL_COMMON
            + ["-m", "256", "--file-prefix", prefix, "--lcores", "0@0,1@0",
               "--vdev", "net_vdevpeer0,peer=%s,server=1,bind=cp0" % sock,
               "--", "-i", "--total-num-mbufs=4096"])
    tp = procs.start("testpmd-capa", argv, prefix=prefix, stdin="pipe")
    tp.wait_log(r"testpmd> ", 30, what="testpmd prompt")
    rx0, tx0 = _capa(tp, 1)
    assert {"TCP_CKSUM", "UDP_CKSUM", "TCP_LRO"} <= rx0, rx0
    assert {"TCP_CKSUM", "UDP_CKSUM", "TCP_TSO", "MULTI_SEGS"} <= tx0, tx0

    # a guest that asks for no offload: nothing but MULTI_SEGS / SCATTER
    g = Guest(procs, "plain", sock).start()
    tp.wait_log(r"cp0 \(.*\): offloads in use: none", 30)
    rx1, tx1 = _capa(tp, 2)
    assert not ({"TCP_CKSUM", "UDP_CKSUM", "TCP_LRO"} & rx1), rx1
    assert not ({"TCP_CKSUM", "TCP_TSO"} & tx1), tx1
    g.stop()
    tp.wait_log(r"cp0 \(.*\): guest stopped", 30)

    # a guest whose application wants RX checksum + LRO, TX checksum + TSO
    cmd = _cmdfile(procs, "g.cmd", ["port stop 0"] + [
        "port config 0 rx_offload %s on" % o for o in ("tcp_cksum", "udp_cksum", "tcp_lro")]
        + ["port config 0 tx_offload %s on" % o for o in ("tcp_cksum", "udp_cksum", "tcp_tso")]
        + ["port start 0"])
    g2 = Guest(procs, "offloading", sock, extra_args=["--cmdline-file=" + cmd]).start()
    tp.wait_log(r"cp0 \(.*\): offloads in use: CSUM GUEST_CSUM GUEST_TSO4 GUEST_TSO6 "
                r"HOST_TSO4 HOST_TSO6", 30)
    rx2, tx2 = _capa(tp, 3)
    assert {"TCP_CKSUM", "UDP_CKSUM", "TCP_LRO"} <= rx2, rx2
    assert {"TCP_CKSUM", "UDP_CKSUM", "TCP_TSO"} <= tx2, tx2
    g2.stop()


def long_header_frames():
    """Frames whose headers (IPv4 and TCP options) end beyond the 128 bytes
    zero-copy copies into the head mbuf, each with a unique source port."""
    out = []
    for i, (kind, n) in enumerate([("tcp4opt", 1000), ("udp4opt", 900), ("tcp6opt", 1200),
                                   ("tcp4opt", 3000)]):
        sport = 3001 + i
        pay = bytes(((sport * 13 + k * 5) & 0xFF) for k in range(n))
        eth = Ether(src=SRC, dst=DST)
        if kind.endswith("6opt"):
            ip = IPv6(src="fd00::1", dst="fd00::2")
        else:
            ip = IP(src="10.0.0.1", dst="10.0.0.2", id=sport, options=[IPOption_NOP()] * 40)
        if kind.startswith("tcp"):
            l4 = TCP(sport=sport, dport=80, seq=1000 * sport, ack=1, flags="PA",
                     options=[("NOP", None)] * 40)
        else:
            l4 = UDP(sport=sport, dport=9)
        out.append((eth / ip / l4 / Raw(pay), kind))
    return out


@pytest.mark.vdevpeer_only
def test_offload_zero_copy_long_headers(procs, middle):
    """zerocopy=on on the sender's port, partial checksums (no TSO), headers
    longer than the zero-copy header copy: the app takes the checksum
    offload (headers handed on must be ours, so such frames are copied
    first) and the receiver gets every frame intact with its checksum
    partial. The frames really were attached (rx_zc_frames)."""
    from lib.procs import telemetry
    sent = long_header_frames()
    m, rx, tx, sent, out = run_cell(procs, middle, S_CSUM, R_CSUM, sender_tso=False,
                                    sent=sent, s_devargs={"zerocopy": "on"},
                                    app_args=["--no-peer-path"])  # zero-copy: the ethdev path
    xs = {}
    try:
        rx.wait_counter(rx.pcap_port, "TX-packets", len(sent), 60)
        xs = telemetry(m.proc.prefix, "/ethdev/xstats,0") or {}
    finally:
        tx.stop()
        rx.stop()
    got = rdpcap(out)
    problems = check(sent, got, False, False, True)
    assert not problems, "\n".join(problems[:30])
    assert len(got) == len(sent)
    assert xs.get("rx_zc_frames", 0) >= len(sent), xs
    assert xs.get("rx_offload_partial_csum_packets", 0) >= len(sent), xs
    assert m.stop() == 0
