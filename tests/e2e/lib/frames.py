# SPDX-License-Identifier: BSD-3-Clause
"""Test frames: build a pcap of numbered frames, check what came out.

Every frame is Ether/IPv4/UDP with a payload that starts with a marker, the
frame's sequence number and its size, followed by a byte pattern derived
from both, so that a frame that is truncated, padded, merged from the wrong
buffers or swapped with another one is told apart from the original.
"""

import struct

from scapy.all import IP, UDP, Ether, Raw, rdpcap, wrpcap  # noqa: F401

SRC_MAC = "02:00:00:00:0a:01"
DST_MAC = "02:00:00:00:0b:01"
MAGIC = b"VDP1"
HDR = 14 + 20 + 8  # Ether + IPv4 + UDP

# Frame sizes (without FCS) around the interesting edges: minimum, odd,
# one mbuf, a standard MTU frame and one byte more, several buffers,
# jumbo frames.
SIZES_ALL = (60, 61, 64, 128, 500, 1000, 1514, 1515, 2000, 4000, 8000, 9000)
SIZES_STD = (60, 61, 64, 128, 500, 1000, 1514)


def frame(seq, size):
    assert size >= HDR + 10
    body = MAGIC + struct.pack("!IH", seq, size)
    n = size - HDR - len(body)
    pat = bytes(((seq * 7 + i * 13 + size) & 0xFF) for i in range(n))
    p = (Ether(src=SRC_MAC, dst=DST_MAC) / IP(src="10.0.0.1", dst="10.0.0.2", id=seq & 0xFFFF)
         / UDP(sport=1024 + (seq & 0x3FFF), dport=9) / Raw(body + pat))
    b = bytes(p)
    assert len(b) == size, (len(b), size)
    return b


def build(sizes, rounds):
    """rounds x each size, interleaved (60, 61, ..., 9000, 60, 61, ...)."""
    out = []
    seq = 0
    for _ in range(rounds):
        for s in sizes:
            out.append(frame(seq, s))
            seq += 1
    return out


def write_pcap(path, frames):
    wrpcap(path, [Ether(f) for f in frames])


def read_pcap(path):
    return [bytes(p) for p in rdpcap(path)]


def seq_of(b):
    i = b.find(MAGIC)
    if i < 0 or i + 10 > len(b):
        return None
    return struct.unpack("!I", b[i + 4:i + 8])[0]


def compare(sent, got):
    """Return None if got == sent (same frames, byte-identical, same order,
    each once), else a readable description of what differs."""
    if got == sent:
        return None
    problems = []
    if len(got) != len(sent):
        problems.append("sent %d frames, received %d" % (len(sent), len(got)))
    by_seq = {}
    for i, b in enumerate(got):
        by_seq.setdefault(seq_of(b), []).append(i)
    missing = [i for i in range(len(sent)) if seq_of(sent[i]) not in by_seq]
    dups = sorted(s for s, idx in by_seq.items() if s is not None and len(idx) > 1)
    foreign = len(by_seq.get(None, []))
    if missing:
        problems.append("missing seq (size): %s" % _short(
            ["%d (%d)" % (seq_of(sent[i]), len(sent[i])) for i in missing]))
    if dups:
        problems.append("duplicated seq: %s" % _short(dups))
    if foreign:
        problems.append("%d received frames carry no test marker" % foreign)
    order = [seq_of(b) for b in got if seq_of(b) is not None]
    if order != sorted(order):
        bad = next(i for i in range(1, len(order)) if order[i] < order[i - 1])
        problems.append("out of order at received frame %d: seq %d after %d" % (bad, order[bad], order[bad - 1]))
    want = {seq_of(b): b for b in sent}
    corrupt = []
    for b in got:
        s = seq_of(b)
        if s in want and b != want[s]:
            w = want[s]
            off = next((k for k in range(min(len(b), len(w))) if b[k] != w[k]), min(len(b), len(w)))
            corrupt.append("seq %d: sent %d B, got %d B, first difference at byte %d" % (s, len(w), len(b), off))
    if corrupt:
        problems.append("%d frames differ: %s" % (len(corrupt), _short(corrupt, 5)))
    return "; ".join(problems) or "frames differ"


def _short(items, n=20):
    items = list(items)
    s = ", ".join(str(x) for x in items[:n])
    return s + (" ... (%d in all)" % len(items) if len(items) > n else "")
