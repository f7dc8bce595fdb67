#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Hand-made seed inputs of the fuzz targets, one per interesting shape.

usage: seeds.py [target...]     (default: every target known here)
       seeds.py --decode split|packed FILE   print an input's fields

Writes drivers/net/vdevpeer/fuzz/corpus/<target>/seed-<shape>; existing
seed-* files of that target are replaced, the other corpus files (grown by
fuzzing) are left alone. The input layouts are documented at the top of
fuzz_<target>.c; this file must follow them.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- fuzz_split --------------------------------------------------------

F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4

FEAT_INDIRECT, FEAT_EVENT_IDX, FEAT_MRG, FEAT_HDR12 = 1, 2, 4, 8
FEAT_BATCH = 16     # fuzz_packed only: used_batch
FEAT_IN_ORDER = 32  # fuzz_packed only: IN_ORDER (kept TX elements go as one)
FEAT_STATE = 64     # fuzz_packed only: the crash state attached (as the PMD's)
OP_COUNT, OP_TX, OP_RX, OP_FRAMES = 1, 2, 4, 8
OP_UNFETCH, OP_SUPPRESS, OP_CALL, OP_KICKS = 16, 32, 64, 128


class Guest:
    """Guest memory of up to 3 regions and a ring, as fuzz_split reads them."""

    def __init__(self, size, regions):
        self.size = size
        self.log2 = size.bit_length() - 1
        assert 1 << self.log2 == size
        self.desc = [(0, 0, 0, 0)] * size
        self.avail_flags = 0
        self.avail_idx = 0
        self.ring = [0] * size
        self.used_event = 0
        # regions: list of (gpa, size); contents packed in the blob in order
        self.regions = regions
        self.mem = [bytearray(sz) for _, sz in regions]

    def write(self, gpa, data):
        for i, (base, sz) in enumerate(self.regions):
            while data and base <= gpa < base + sz:
                n = min(len(data), base + sz - gpa)
                self.mem[i][gpa - base:gpa - base + n] = data[:n]
                gpa += n
                data = data[n:]
        assert not data, "write outside guest memory"

    def table(self, gpa, descs):
        """An indirect table at gpa."""
        self.write(gpa, b"".join(struct.pack("<QIHH", *d) for d in descs))

    def post(self, *heads):
        for h in heads:
            self.ring[self.avail_idx % self.size] = h
            self.avail_idx = (self.avail_idx + 1) & 0xffff

    def encode(self, feat=0, ops=OP_COUNT | OP_TX, bursts=1, nread=32, nwrite=0,
               last_avail=0, used_idx=0, avail_step=0, nframes=0,
               frames=(0, 0, 0), cuts=(0, 0, 0), rd_sel=0, wr_off=0, wr_len=0,
               probe=0, nethdr=b""):
        out = bytearray()
        out += struct.pack("<BBBBBBHHHBB", self.log2, feat, ops, bursts - 1,
                           nread, nwrite, last_avail, used_idx, avail_step,
                           len(self.regions) - 1, nframes)
        out += struct.pack("<3H", *frames)
        out += struct.pack("<3B", *cuts)
        out += struct.pack("<BHHB3x", rd_sel, wr_off, wr_len, probe)
        out += nethdr.ljust(12, b"\0")[:12]
        assert len(out) == 44
        for d in self.desc:
            out += struct.pack("<QIHH", *d)
        out += struct.pack("<HH", self.avail_flags, self.avail_idx)
        out += struct.pack("<%dH" % self.size, *self.ring)
        out += struct.pack("<H", self.used_event)
        # region contents: trailing zeroes are implied, so only the used
        # part of each region goes in the blob
        used = [bytes(m).rstrip(b"\0") for m in self.mem]
        doff = 0
        offs = []
        for u in used:
            offs.append(doff)
            doff += len(u)
        for i in range(3):
            if i < len(self.regions):
                gpa, sz = self.regions[i]
                out += struct.pack("<QIHH", gpa, sz - 1, offs[i], 0)
            else:
                out += bytes(16)
        for u in used:
            out += u
        return bytes(out)


def frame_bytes(n, seed=1):
    return bytes((i * 13 + seed) & 0xff for i in range(n))


def split_seeds():
    seeds = {}
    base = 0x10000
    hdr10 = bytes(10)

    # guest TX, one descriptor per frame
    g = Guest(8, [(base, 4096)])
    for i in range(4):
        g.desc[i] = (base + i * 256, 12 + 60 + i, 0, 0)
        g.write(base + i * 256, frame_bytes(72 + i, i))
        g.post(i)
    seeds["tx-direct"] = g.encode(feat=FEAT_HDR12, rd_sel=40)

    # guest TX, header and payload in a 3-descriptor chain
    g = Guest(16, [(base, 4096)])
    g.desc[0] = (base, 12, F_NEXT, 5)
    g.desc[5] = (base + 64, 100, F_NEXT, 9)
    g.desc[9] = (base + 512, 1400, 0, 0)
    g.write(base + 64, frame_bytes(100))
    g.post(0)
    seeds["tx-chain"] = g.encode(feat=FEAT_HDR12, rd_sel=200)

    # guest TX through an indirect table
    g = Guest(4, [(base, 4096)])
    g.desc[2] = (base + 0x40, 3 * 16, F_INDIRECT, 0)
    g.table(base + 0x40, [(base, 10, F_NEXT, 1), (base + 0x100, 200, F_NEXT, 2),
                           (base + 0x300, 300, 0, 0)])
    g.post(2, 2)
    seeds["tx-indirect"] = g.encode(feat=FEAT_INDIRECT, rd_sel=128)

    # guest RX buffers fetched and written (chain_write)
    g = Guest(8, [(base, 8192)])
    for i in range(6):
        g.desc[i] = (base + i * 1024, 1024, F_WRITE, 0)
        g.post(i)
    seeds["rx-fetch-write"] = g.encode(ops=OP_COUNT | OP_RX, nwrite=8, wr_off=10,
                                       wr_len=600)

    # guest RX frames, one chain each (no MRG_RXBUF)
    g = Guest(8, [(base, 8192)])
    for i in range(4):
        g.desc[i] = (base + i * 2048, 1526 if i else 600, F_WRITE, 0)
        g.post(i)
    seeds["rx-frames"] = g.encode(ops=OP_COUNT | OP_FRAMES, nframes=3,
                                  frames=(60, 1000, 1514), cuts=(0, 0x40 | 20, 0x80 | 33),
                                  nethdr=bytes([1, 0, 0, 0, 0, 0, 34, 0, 16, 0]))

    # guest RX frames over mergeable buffers: one frame in 6 buffers, one
    # in a 2-descriptor chain, and a short first buffer
    g = Guest(16, [(base, 8192)])
    g.desc[0] = (base, 8, F_WRITE, 0)          # shorter than the header
    for i in range(1, 9):
        g.desc[i] = (base + i * 512, 256, F_WRITE, 0)
    g.desc[9] = (base + 0x1400, 100, F_WRITE | F_NEXT, 10)
    g.desc[10] = (base + 0x1600, 1000, F_WRITE, 0)
    g.post(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
    seeds["rx-mergeable"] = g.encode(feat=FEAT_MRG | FEAT_HDR12,
                                     ops=OP_COUNT | OP_FRAMES | OP_CALL, nframes=3,
                                     frames=(1500, 900, 40), cuts=(0x80 | 10, 0, 0x40 | 63))

    # buffers that straddle two regions contiguous in gpa (and a third
    # region elsewhere holding an indirect table)
    g = Guest(8, [(base, 1024), (base + 1024, 2048), (0x7fff0000, 512)])
    g.desc[0] = (base + 1000, 100, 0, 0)                 # TX across the edge
    g.desc[1] = (0x7fff0000, 32, F_INDIRECT, 0)
    g.table(0x7fff0000, [(base + 900, 500, F_WRITE | F_NEXT, 1),
                         (base + 2000, 1000, F_WRITE, 0)])
    g.write(base + 1000, frame_bytes(100))
    g.post(0, 1)
    seeds["span-regions"] = g.encode(feat=FEAT_INDIRECT, ops=OP_COUNT | OP_TX | OP_RX,
                                     nread=1, nwrite=1, wr_off=50, wr_len=1400,
                                     rd_sel=100)
    seeds["span-regions-frame"] = g.encode(feat=FEAT_INDIRECT | FEAT_MRG | FEAT_HDR12,
                                           ops=OP_FRAMES, nframes=1, frames=(1400, 0, 0),
                                           cuts=(0x80 | 30, 0, 0))

    # indexes near the wrap, event_idx notifications, more posted per burst
    g = Guest(4, [(base, 4096)])
    for i in range(4):
        g.desc[i] = (base + i * 1024, 1024, F_WRITE, 0)
    g.avail_idx = 65534
    g.post(0, 1, 2)
    g.used_event = 65533
    seeds["wrap-event-idx"] = g.encode(feat=FEAT_EVENT_IDX, ops=OP_FRAMES | OP_CALL |
                                       OP_SUPPRESS, bursts=3, last_avail=65534,
                                       used_idx=65530, avail_step=1, nframes=2,
                                       frames=(100, 200, 0))
    seeds["no-event-idx-call"] = g.encode(ops=OP_COUNT | OP_FRAMES | OP_CALL |
                                          OP_SUPPRESS, bursts=2, last_avail=65534,
                                          used_idx=65530, avail_step=2, nframes=1,
                                          frames=(100, 0, 0))
    # rx interrupt mode: kicks asked for around each burst, with and
    # without EVENT_IDX, near the index wrap, the guest posting more
    for feat, name in ((FEAT_EVENT_IDX, "kicks-event-idx"), (0, "kicks")):
        seeds[name] = g.encode(feat=feat, ops=OP_COUNT | OP_RX | OP_KICKS | OP_SUPPRESS,
                               bursts=3, last_avail=65534, used_idx=65530, avail_step=1)

    # a TX chain given back (mbufs ran out) and taken again next burst
    g = Guest(2, [(base, 4096)])
    g.desc[0] = (base, 200, 0, 0)
    g.desc[1] = (base + 256, 300, 0, 0)
    g.post(0, 1)
    seeds["tx-unfetch"] = g.encode(ops=OP_TX | OP_UNFETCH, bursts=2)

    # every kind of bad chain, one after the other
    g = Guest(16, [(base, 4096)])
    g.desc[0] = (base, 0, 0, 0)                                # zero length
    g.desc[1] = (base + 8000, 100, 0, 0)                       # outside memory
    g.desc[2] = (base, 100, F_WRITE, 0)                        # wrong direction
    g.desc[3] = (base + 0x800, 16, F_INDIRECT | F_NEXT, 0)     # indirect + NEXT
    g.desc[4] = (base + 0x800, 20, F_INDIRECT, 0)              # not n * 16
    g.desc[5] = (base + 0x804, 16, F_INDIRECT, 0)              # misaligned
    g.desc[6] = (base + 0x800, 32, F_INDIRECT, 0)              # nested
    g.table(base + 0x800, [(base, 10, F_INDIRECT, 0), (0, 0, 0, 0)])
    g.desc[7] = (base, 4, 0, 0)                                # shorter than hdr
    g.desc[8] = (base + 0xa00, 48, F_INDIRECT, 0)              # loop in a table
    g.table(base + 0xa00, [(base, 10, F_NEXT, 1), (base, 10, F_NEXT, 2),
                           (base, 10, F_NEXT, 0)])
    g.desc[9] = (base + 0xc00, 16, F_INDIRECT, 0)              # index out of table
    g.table(base + 0xc00, [(base, 10, F_NEXT, 7)])
    g.post(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
    seeds["bad-chains"] = g.encode(feat=FEAT_INDIRECT | FEAT_HDR12)

    # a loop in the main table, then an avail idx jump: the ring breaks
    g = Guest(4, [(base, 4096)])
    g.desc[0] = (base, 10, F_NEXT, 1)
    g.desc[1] = (base, 10, F_NEXT, 0)
    g.post(0)
    seeds["loop-breaks"] = g.encode(bursts=2, ops=OP_COUNT | OP_TX | OP_FRAMES,
                                    nframes=1, frames=(10, 0, 0))
    g = Guest(4, [(base, 4096)])
    g.desc[0] = (base, 100, 0, 0)
    g.avail_idx = 5
    seeds["avail-jump"] = g.encode(bursts=2, ops=OP_COUNT | OP_TX)
    g.avail_idx = 1
    g.ring[0] = 9
    seeds["head-out-of-range"] = g.encode(ops=OP_TX)

    # a chain of exactly 128 segments, and one of 129 (tables first in the
    # region, buffers after them: the input holds only what is not zero)
    g = Guest(4, [(base, 8192)])
    g.desc[0] = (base, 128 * 16, F_INDIRECT, 0)
    g.table(base, [(base + 4096 + i * 8, 8, F_NEXT, i + 1) for i in range(127)] +
            [(base + 4096 + 1016, 8, 0, 0)])
    g.desc[1] = (base + 2048, 2 * 16, F_INDIRECT, 0)
    g.table(base + 2048, [(base + 4096, 2048, F_NEXT, 1), (base + 8000, 100, 0, 0)])
    g.desc[2] = (base, 4096, F_NEXT, 3)
    g.desc[3] = (base, 4096, 0, 0)
    g.post(0, 1, 2)
    seeds["max-segments"] = g.encode(feat=FEAT_INDIRECT, rd_sel=255)

    # TX frame bigger than VDP_TX_FRAME_MAX through repeated buffers
    g = Guest(16, [(base, 16384)])
    for i in range(5):
        g.desc[i] = (base, 16384, F_NEXT, i + 1)
    g.desc[5] = (base, 100, 0, 0)
    g.post(0)
    seeds["tx-too-big"] = g.encode()

    # TX chains of exactly the largest frame accepted, and one byte more
    g = Guest(16, [(base, 16384)])
    for i in range(4):
        g.desc[i] = (base, 16384, F_NEXT, i + 1)
        g.desc[5 + i] = (base, 16384, F_NEXT, 5 + i + 1)
    g.desc[4] = (base, 65804 - 4 * 16384, 0, 0)
    g.desc[9] = (base, 65805 - 4 * 16384, 0, 0)
    g.post(0, 5)
    seeds["tx-largest-frame"] = g.encode(feat=FEAT_HDR12, rd_sel=254)

    # RX frames that fill their buffer exactly, and one byte too many
    g = Guest(4, [(base, 4096)])
    g.desc[0] = (base, 1000, F_WRITE, 0)
    g.desc[1] = (base + 2048, 1000, F_WRITE, 0)
    g.post(0, 1)
    seeds["rx-exact-fit"] = g.encode(ops=OP_COUNT | OP_FRAMES, nframes=3,
                                     frames=(990, 991, 990))
    seeds["rx-exact-fit-mrg"] = g.encode(feat=FEAT_MRG | FEAT_HDR12,
                                         ops=OP_COUNT | OP_FRAMES, nframes=2,
                                         frames=(988, 989, 0), cuts=(0x40 | 9, 0, 0))

    # the descriptor budget: 32 TX chains of 128 descriptors, then RX
    # fetches of chains refused at their 129th: the last one does not fit
    g = Guest(256, [(base, 4096)])
    for i in range(128):
        g.desc[i] = (base + i * 8, 8, F_NEXT if i < 127 else 0, i + 1)
        g.desc[128 + i] = (base + 2048 + i * 8, 8, F_WRITE | F_NEXT, 128 + (i + 1) % 128)
    g.post(*([0] * 32 + [128] * 32 + [0] * 8))
    seeds["desc-budget"] = g.encode(feat=FEAT_MRG | FEAT_HDR12,
                                    ops=OP_COUNT | OP_TX | OP_RX | OP_FRAMES, bursts=2,
                                    nread=32, nwrite=32, nframes=1, frames=(100, 0, 0))

    # the descriptor budget to the last descriptor: 32 RX chains of 128
    # descriptors, two mergeable frames in 15 of them each, one more, then
    # a chain of 129 (an indirect table of 128) with 128 left: not taken
    g = Guest(256, [(base, 8192)])
    for i in range(128):
        g.desc[i] = (base + 4096 + i * 8, 8, F_WRITE | (F_NEXT if i < 127 else 0), i + 1)
    g.desc[128] = (base, 128 * 16, F_INDIRECT, 0)
    g.table(base, [(base + 4096 + i * 8, 8, F_WRITE | (F_NEXT if i < 127 else 0), i + 1)
                   for i in range(128)])
    g.post(*([0] * 63 + [128] * 8))
    seeds["desc-budget-exact"] = g.encode(feat=FEAT_INDIRECT | FEAT_MRG | FEAT_HDR12,
                                          ops=OP_COUNT | OP_RX | OP_FRAMES, nwrite=32,
                                          nframes=3, frames=(0x8000 | (15 * 1024 - 12),
                                                             0x8000 | (15 * 1024 - 12),
                                                             1500))

    # the refusal budget: 64 bad chains, then a frame dropped for it
    g = Guest(128, [(base, 4096)])
    g.desc[0] = (base, 0, 0, 0)
    g.desc[1] = (base, 2048, F_WRITE, 0)
    g.post(*([0] * 70 + [1] * 4))
    seeds["bad-budget"] = g.encode(ops=OP_COUNT | OP_TX | OP_RX | OP_FRAMES, bursts=3,
                                   nread=32, nwrite=32, nframes=2, frames=(100, 60, 0))

    # mergeable frame meeting bad chains between its buffers, and one too
    # big for what is posted (the taken buffers go back)
    g = Guest(16, [(base, 8192)])
    for i in range(6):
        g.desc[i] = (base + i * 512, 512, F_WRITE, 0)
    g.desc[6] = (base, 0, F_WRITE, 0)
    g.post(1, 2, 6, 3, 4, 6, 5)
    seeds["rx-mergeable-bad"] = g.encode(feat=FEAT_MRG | FEAT_HDR12,
                                         ops=OP_COUNT | OP_FRAMES, bursts=2, nframes=2,
                                         frames=(2000, 4000, 0), avail_step=0)

    # a mergeable frame that needs more than VDP_MRG_MAX_BUFS buffers: the
    # same 16-byte buffer posted 200 times
    g = Guest(256, [(base, 4096)])
    g.desc[0] = (base, 16, F_WRITE, 0)
    g.post(*([0] * 200))
    seeds["rx-mergeable-too-many-bufs"] = g.encode(feat=FEAT_MRG | FEAT_HDR12,
                                                   ops=OP_COUNT | OP_FRAMES, nframes=2,
                                                   frames=(3000, 1000, 0))

    # guest memory at the top of the address space; the translation probes
    top = (1 << 64) - 8192
    g = Guest(2, [(top, 4096), (top + 4096, 4095)])
    g.desc[0] = (top + 4000, 500, 0, 0)
    g.desc[1] = ((1 << 64) - 16, 32, 0, 0)
    g.post(0, 1)
    seeds["top-of-memory"] = g.encode(probe=77)
    return seeds


# ---- fuzz_packed -------------------------------------------------------

P_AVAIL, P_USED = 1 << 7, 1 << 15
K_WRITE, K_INDIRECT, K_NOEND, K_NESTED, K_IDALL, K_TNEXT = 1, 2, 4, 8, 16, 32
(PO_FETCH_READ, PO_FETCH_WRITE, PO_ENQUEUE, PO_PUT, PO_UNFETCH, PO_PUBLISH, PO_BURST,
 PO_SUPPRESS, PO_COUNT, PO_POST, PO_SLOT, PO_FLIP, PO_EVENT, PO_TABLE,
 PO_SEEK) = range(15)
PO_NUM = 15
# SUPPRESS with the opcode byte's top bit: kicks asked for (rx interrupt
# mode); the byte is taken % PO_NUM, so the next such byte >= 128
PO_KICKS = PO_SUPPRESS + PO_NUM * -(-(128 - PO_SUPPRESS) // PO_NUM)
# BURST with the top bit: RELOAD, the same ring loaded again at its own
# positions (vdp_packed_init_same)
PO_RELOAD = PO_BURST + PO_NUM * -(-(128 - PO_BURST) // PO_NUM)
EV_ENABLE, EV_DISABLE, EV_DESC = 0, 1, 2


def ring_size_code(size):
    """The u16 fuzz_packed turns into this ring size (fz_ring_size)."""
    assert 1 <= size <= 32768
    if size <= 64:
        return size - 1
    if size <= 1024:
        return 0x4000 | (size - 1)
    if size <= 4096:
        return 0x8000 | (size - 1)
    return 0xc000 | (size - 1)


def frame_len_code(n):
    """The u16 fuzz_packed (and fuzz_split) turn into this payload length."""
    if n < 0x1000:
        return n
    if n < 0x4000:
        return 0x8000 | n
    assert n >= 0xc000, "no encoding for a payload of %d bytes" % n
    return n


class PackedGuest:
    """One fuzz_packed input: ring, guest memory and the operations, with
    the guest's driver position tracked as the harness tracks it."""

    def __init__(self, size, regions, feat=0, avail=0, avail_wrap=1, used=None,
                 used_wrap=None, ev=(0, EV_ENABLE), nethdr=b""):
        self.size = size
        self.feat = feat
        self.avail, self.avail_wrap = avail, avail_wrap
        self.used = avail if used is None else used
        self.used_wrap = avail_wrap if used_wrap is None else used_wrap
        self.ev = ev
        self.nethdr = nethdr
        self.regions = regions          # (gpa, size); contents in the blob
        self.mem = [bytearray(sz) for _, sz in regions]
        self.ops = bytearray()
        self.dpos, self.dwrap = avail, avail_wrap

    def gpa(self, reg, off):
        return self.regions[reg][0] + off

    def write(self, gpa, data):
        """Guest memory bytes given in the input (the blob)."""
        for i, (base, sz) in enumerate(self.regions):
            while data and base <= gpa < base + sz:
                n = min(len(data), base + sz - gpa)
                self.mem[i][gpa - base:gpa - base + n] = data[:n]
                gpa += n
                data = data[n:]
        assert not data, "write outside guest memory"

    def _advance(self, n):
        s = self.dpos + n
        while s >= self.size:
            s -= self.size
            self.dwrap ^= 1
        self.dpos = s

    # device operations
    def fetch_read(self, a=0, put=False):
        self.ops += struct.pack("<BB", PO_FETCH_READ, (a & ~1) | int(put))
        return self

    def fetch_write(self, n=0, a=0, put=False):
        self.ops += struct.pack("<BBH", PO_FETCH_WRITE, (a & ~1) | int(put), n)
        return self

    def enqueue(self, payload, cut=0):
        self.ops += struct.pack("<BHB", PO_ENQUEUE, frame_len_code(payload), cut)
        return self

    def put(self, k=0):
        self.ops += struct.pack("<BB", PO_PUT, k)
        return self

    def simple(self, op, times=1):
        self.ops += bytes([op]) * times
        return self

    # the guest's operations
    def post(self, n, kind=0, id=0, breg=0, boff=0, blen=100, stride=0, treg=0, toff=0):
        """A chain at the driver's position; returns the slot of its head."""
        head = self.dpos
        self.ops += struct.pack("<BHBHBHHHBH", PO_POST, n - 1, kind, id, breg, boff, blen,
                                stride, treg, toff)
        self._advance(1 if kind & K_INDIRECT else n)
        return head

    def slot(self, s, addr, ln, id, flags):
        self.ops += struct.pack("<BHQIHH", PO_SLOT, s, addr, ln, id, flags)
        return self

    def raw_post(self, addr, ln, id, flags):
        """One slot written raw at the driver's position in its phase, and
        the driver moved past it (SLOT does not move it: SEEK)."""
        self.slot(self.dpos, addr, ln, id, flags | self.phase(self.dwrap))
        self._advance(1)
        return self.seek(self.dpos, self.dwrap)

    def flip(self, s, x):
        self.ops += struct.pack("<BHH", PO_FLIP, s, x)
        return self

    def event(self, off_wrap, flags):
        self.ops += struct.pack("<BHH", PO_EVENT, off_wrap, flags)
        return self

    def table(self, treg, toff, n, kind=0, breg=0, boff=0, blen=100, stride=0):
        self.ops += struct.pack("<BBHHBBHHH", PO_TABLE, treg, toff, n - 1, kind, breg, boff,
                                blen, stride)
        return self

    def seek(self, s, w):
        self.ops += struct.pack("<BHB", PO_SEEK, s, w)
        self.dpos, self.dwrap = s, w
        return self

    def phase(self, w):
        """The flags of an available descriptor in phase w."""
        return P_AVAIL if w else P_USED

    def encode(self):
        out = bytearray(struct.pack("<HBBHHBBHHH", ring_size_code(self.size), self.feat,
                                    self.avail_wrap | self.used_wrap << 1, self.avail,
                                    self.used, len(self.regions) - 1, 0, self.ev[0],
                                    self.ev[1], len(self.ops)))
        out += self.nethdr.ljust(12, b"\0")[:12] + bytes(4)
        assert len(out) == 32
        used = [bytes(m).rstrip(b"\0") for m in self.mem]
        offs, doff = [], 0
        for u in used:
            offs.append(doff)
            doff += len(u)
        for i in range(3):
            if i < len(self.regions):
                gpa, sz = self.regions[i]
                out += struct.pack("<QIHH", gpa, sz - 1, offs[i], 0)
            else:
                out += bytes(16)
        assert len(out) == 80
        out += self.ops
        for u in used:
            out += u
        assert len(out) <= 8192, "seed over fuzz_packed's -max_len"
        return bytes(out)


def packed_seeds():
    seeds = {}
    base = 0x10000
    hdr12 = bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x55, 0x55])
    FI, FE, FM, FH = FEAT_INDIRECT, FEAT_EVENT_IDX, FEAT_MRG, FEAT_HDR12

    # guest TX on a ring of 5 (not a power of two) from slot 3: chains of
    # 1..3 slots across the end, put out of order, the driver going on in
    # the next lap; interrupts on (ENABLE)
    g = PackedGuest(5, [(base, 8192)], feat=FH, avail=3)
    g.post(1, id=0, boff=0, blen=80)
    g.post(3, id=4, boff=256, blen=30, stride=64)    # slots 4, 0, 1
    g.fetch_read(a=40).fetch_read(a=200)
    g.put(1).put(0).simple(PO_PUBLISH)
    g.post(1, id=2, boff=512, blen=60)               # slot 2
    g.post(2, id=1, boff=1024, blen=40, stride=40)   # slots 3, 4: next lap
    g.fetch_read(put=True).fetch_read(put=True).simple(PO_PUBLISH).simple(PO_COUNT)
    seeds["tx-wrap"] = g.encode()

    # guest RX buffers fetched, written (chain_write) and given back, on a
    # ring of 7 handed over in the second lap (wrap counters 0)
    g = PackedGuest(7, [(base, 8192)], avail=5, avail_wrap=0)
    for i in range(6):
        g.post(1 + i % 2, kind=K_WRITE, id=i, boff=i * 1024, blen=500, stride=512)
    for i in range(6):
        g.fetch_write(n=300 + i * 100, a=2 * i)
    for k in (3, 0, 2, 1, 0, 0):
        g.put(k)
    g.simple(PO_PUBLISH)
    seeds["rx-fetch-write"] = g.encode()

    # indirect tables: TX through a table of 3, RX through a table of 4,
    # NEXT in a table (ignored), then the same id again once given back
    g = PackedGuest(4, [(base, 8192)], feat=FI | FH)
    g.post(3, kind=K_INDIRECT, id=2, boff=0x100, blen=200, stride=256, toff=0x40)
    g.post(4, kind=K_INDIRECT | K_WRITE | K_TNEXT, id=3, boff=0x1000, blen=300,
           stride=512, toff=0x800)
    g.fetch_read(a=100).fetch_write(n=1000, a=8).put(1).put(0)
    g.post(2, kind=K_INDIRECT, id=2, boff=0x100, blen=100, stride=100, toff=0x40)
    g.fetch_read(put=True).simple(PO_PUBLISH)
    seeds["indirect"] = g.encode()

    # guest RX frames without MRG_RXBUF: fits, exact fit, one byte too many
    # (the chain stays with the guest), through an indirect table too
    g = PackedGuest(6, [(base, 16384)], feat=FI)
    g.post(1, kind=K_WRITE, id=0, boff=0, blen=1524)
    g.post(2, kind=K_WRITE, id=1, boff=2048, blen=500, stride=1000)
    g.post(1, kind=K_WRITE, id=2, boff=6000, blen=600)
    g.post(3, kind=K_WRITE | K_INDIRECT, id=3, boff=8192, blen=600, stride=700,
           toff=4096)
    g.enqueue(1514, cut=0x40 | 20).enqueue(990).enqueue(591).enqueue(590, 0x80 | 33)
    g.enqueue(1790).simple(PO_PUBLISH)
    seeds["rx-frames"] = g.encode()

    # mergeable RX: a frame in 5 buffers (one a 2-slot chain), one in the
    # first buffer, a first buffer shorter than the header, a bad chain
    # between buffers (those before it come back with len 0 when the frame
    # does not fit), num_buffers written
    g = PackedGuest(16, [(base, 16384)], feat=FM | FH, nethdr=hdr12)
    g.post(1, kind=K_WRITE, id=0, boff=0, blen=8)           # shorter than 12
    for i in range(1, 5):
        g.post(1, kind=K_WRITE, id=i, boff=i * 512, blen=256)
    g.post(2, kind=K_WRITE, id=5, boff=0x1400, blen=700, stride=0x400)
    g.post(1, kind=K_WRITE, id=6, boff=0x2000, blen=2000)
    g.enqueue(1500, cut=0x80 | 10).enqueue(900).simple(PO_PUBLISH)
    g.post(1, kind=K_WRITE, id=7, boff=0x3000, blen=512)
    g.post(1, kind=K_WRITE, id=8, boff=0x3000, blen=0)      # bad: zero length
    g.post(1, kind=K_WRITE, id=9, boff=0x3400, blen=512)
    g.enqueue(3000).enqueue(400, cut=0x40 | 63).simple(PO_PUBLISH)
    seeds["rx-mergeable"] = g.encode()

    # mergeable with a 10-byte header, frames across the ring's end
    g = PackedGuest(3, [(base, 4096)], feat=FM, avail=2)
    for i in range(3):
        g.post(1, kind=K_WRITE, id=i, boff=i * 1024, blen=1000)
    g.enqueue(1500).simple(PO_PUBLISH)
    g.post(1, kind=K_WRITE, id=0, boff=0, blen=1000)
    g.post(1, kind=K_WRITE, id=1, boff=1024, blen=1000)
    g.enqueue(800).enqueue(2500).simple(PO_PUBLISH)
    seeds["rx-mergeable-wrap"] = g.encode()

    # a mergeable frame needing more than 128 buffers of 16 bytes
    g = PackedGuest(200, [(base, 4096)], feat=FM | FH)
    for i in range(140):
        g.post(1, kind=K_WRITE, id=i, boff=(i % 200) * 16, blen=16)
    g.enqueue(3000).enqueue(1000)
    seeds["rx-mergeable-too-many-bufs"] = g.encode()

    # event suppression with RING_EVENT_IDX: DESC at positions ahead, just
    # passed, in the other lap; DISABLE; ENABLE; a value with reserved bits
    g = PackedGuest(4, [(base, 8192)], feat=FE, ev=(0x8002, EV_DESC))
    for rnd in range(3):
        for i in range(3):
            g.post(1, id=i, boff=i * 1024, blen=100)
        g.fetch_read(put=True).simple(PO_PUBLISH)
        g.fetch_read(put=True).fetch_read(put=True).simple(PO_PUBLISH)
        g.event((rnd * 3 + 1) % 4 | (0x8000 if rnd % 2 else 0), EV_DESC)
    for i, (off_wrap, flags) in enumerate(((0, EV_DISABLE), (0, EV_ENABLE), (0, 5))):
        g.post(1, id=i, blen=100)
        g.fetch_read(put=True).event(off_wrap, flags).simple(PO_PUBLISH)
    g.simple(PO_SUPPRESS).simple(PO_PUBLISH)
    seeds["event-desc"] = g.encode()
    g.feat = 0
    seeds["event-no-event-idx"] = g.encode()
    # rx interrupt mode (SUPPRESS with the opcode's top bit): kicks asked
    # for with nothing there, then with a chain posted, on both kinds of
    # event structure
    g = PackedGuest(4, [(base, 8192)], feat=FE)
    g.simple(PO_KICKS)
    g.post(1, id=0, blen=100)
    g.simple(PO_KICKS).fetch_read(put=True).simple(PO_PUBLISH)
    g.simple(PO_KICKS)
    seeds["kicks-desc"] = g.encode()
    g.feat = 0
    seeds["kicks-enable"] = g.encode()

    # the edges of a DESC call decision on a ring of 4 (position = slot +
    # 4 x wrap): the event at the last decision's position minus one (no
    # call), at it (call), at the new position (no call), just passed (call)
    g = PackedGuest(4, [(base, 4096)], feat=FE, ev=(0x8000, EV_DESC))
    for i, off_wrap in enumerate((0x8000, 0x8000, 0x8002, 0x0000, 0x0000)):
        g.event(off_wrap, EV_DESC)
        g.post(1, id=i % 4, blen=100)
        g.fetch_read(put=True).simple(PO_PUBLISH)
    seeds["event-edges"] = g.encode()

    # a TX chain given back (mbufs ran out) and taken again
    g = PackedGuest(2, [(base, 4096)])
    g.post(2, id=1, boff=0, blen=100, stride=200)
    g.fetch_read().simple(PO_UNFETCH).simple(PO_COUNT).fetch_read().put(0)
    g.simple(PO_PUBLISH)
    seeds["tx-unfetch"] = g.encode()

    # the smallest ring: one slot, many laps
    g = PackedGuest(1, [(base, 4096)], feat=FH)
    for i in range(6):
        g.post(1, id=0, boff=i * 100, blen=50 + i)
        g.fetch_read(put=bool(i % 2))
        if not i % 2:
            g.put(0)
        g.simple(PO_PUBLISH)
    seeds["ring-of-one"] = g.encode()

    # the largest ring: 32768 slots, handed over near its end, chains
    # across it; a chain of exactly the ring's size on a ring of 100
    g = PackedGuest(32768, [(base, 16384)], feat=FI, avail=32765, used=32760,
                    used_wrap=0)
    g.post(2, id=32767, boff=0, blen=100, stride=100)
    g.post(3, id=5, boff=1000, blen=100, stride=100)
    g.post(1, kind=K_INDIRECT, id=6, boff=4000, blen=64, toff=8192)
    g.fetch_read(put=True).fetch_read().fetch_read(put=True).put(0).simple(PO_PUBLISH)
    seeds["ring-32768"] = g.encode()
    g = PackedGuest(100, [(base, 16384)])
    g.post(100, id=99, boff=0, blen=10, stride=16)
    g.fetch_read()
    g.post(1, id=0, blen=20)
    g.fetch_read().put(1).put(0)
    seeds["chain-whole-ring"] = g.encode()

    # ---- hostile guests ----

    # wrong phase mid-chain: the second slot of a 3-slot chain left in the
    # last lap's phase (AVAIL and USED both flipped): the ring breaks
    g = PackedGuest(8, [(base, 4096)], avail=6)
    g.post(1, id=0, blen=20)
    h = g.post(3, id=1, blen=20, stride=32)
    g.flip((h + 1) % 8, P_AVAIL | P_USED)
    g.fetch_read(put=True).fetch_read().fetch_read()
    seeds["wrong-phase-mid-chain"] = g.encode()
    # the same with only USED flipped on the last slot (not available)
    g = PackedGuest(8, [(base, 4096)])
    h = g.post(3, kind=K_WRITE, id=1, blen=20, stride=32)
    g.flip(h + 2, P_USED)
    g.enqueue(10)
    seeds["used-bit-mid-chain"] = g.encode()

    # ids: out of range; reused while held (TX held, zero-copy style);
    # reused while held inside one mergeable frame
    g = PackedGuest(4, [(base, 4096)])
    g.post(1, id=4, blen=100)
    g.fetch_read()
    seeds["id-out-of-range"] = g.encode()
    g = PackedGuest(6, [(base, 4096)], feat=FH)
    g.post(1, id=3, blen=100)
    g.post(2, id=3, blen=100, stride=200)
    g.fetch_read().fetch_read().put(0)
    seeds["id-reused-while-held"] = g.encode()
    g = PackedGuest(6, [(base, 4096)], feat=FM | FH)
    g.post(1, kind=K_WRITE, id=2, blen=100)
    g.post(1, kind=K_WRITE, boff=200, id=2, blen=100)
    g.enqueue(500)
    seeds["id-reused-in-frame"] = g.encode()
    # the id taken from the last slot, not the head (which holds an id held)
    g = PackedGuest(6, [(base, 4096)])
    g.post(1, id=1, blen=100)
    g.post(3, id=2, blen=30, stride=40)      # head and middle: garbage ids
    g.fetch_read().fetch_read().put(1).put(0)
    seeds["id-in-last-slot"] = g.encode()

    # chains with no end: NEXT on every slot of the ring; in the indirect
    # slot; a chain running into slots not posted
    g = PackedGuest(9, [(base, 4096)], avail=4)
    g.post(9, kind=K_NOEND, id=1, blen=10)
    g.fetch_read()
    seeds["chain-longer-than-ring"] = g.encode()
    g = PackedGuest(9, [(base, 4096)], feat=FI)
    g.post(2, kind=K_INDIRECT | K_NOEND, id=1, blen=10, toff=1024)
    g.post(1, id=2, blen=20)
    g.fetch_read().fetch_read()
    seeds["indirect-with-next"] = g.encode()
    g = PackedGuest(9, [(base, 4096)])
    g.post(2, kind=K_NOEND, id=1, blen=10)
    g.fetch_read()
    seeds["chain-runs-off"] = g.encode()

    # long chains: 129 one-byte buffers (too many segments: a bad chain,
    # skipped whole); 129 entries in a table; a chain of 9000 slots, more
    # than a burst may read: never taken, each burst stops at it
    g = PackedGuest(300, [(base, 8192)], feat=FI)
    g.post(128, id=1, blen=1, stride=1)
    g.post(129, id=2, blen=1, stride=1)
    g.post(129, kind=K_INDIRECT, id=3, blen=1, stride=1, boff=0, toff=2048)
    g.post(128, kind=K_INDIRECT, id=5, blen=1, stride=1, boff=0, toff=2048 + 129 * 16)
    g.post(2, id=4, blen=100, stride=0)
    g.fetch_read(a=254, put=True).fetch_read().fetch_read().fetch_read(put=True)
    g.fetch_read(put=True)
    seeds["long-chains"] = g.encode()
    g = PackedGuest(16384, [(base, 4096)])
    g.post(9000, id=1, blen=10, stride=0)
    g.fetch_read().simple(PO_BURST).fetch_read().simple(PO_BURST)
    g.enqueue(100).enqueue(100)
    seeds["chain-over-budget"] = g.encode()

    # nested indirect, indirect in the middle of a chain, indirect not
    # negotiated, a table not a multiple of 16, misaligned, outside memory
    g = PackedGuest(16, [(base, 8192)], feat=FI | FH)
    g.post(2, kind=K_INDIRECT | K_NESTED, id=0, blen=100, toff=0x100)
    g.post(2, id=1, blen=100)
    g.flip(2, F_INDIRECT)           # INDIRECT inside a NEXT list
    g.post(1, id=2, blen=100)
    g.raw_post(base + 0x400, 20, 3, F_INDIRECT)        # not a multiple of 16
    g.raw_post(base + 0x404, 16, 4, F_INDIRECT)        # misaligned
    g.raw_post(base + 0x10000, 32, 5, F_INDIRECT)      # outside memory
    g.raw_post(base + 0x1ff0, 32, 6, F_INDIRECT)       # runs off the region
    g.raw_post(base + 0x400, 0, 7, F_INDIRECT)         # empty
    g.post(1, id=8, blen=100)
    g.fetch_read().fetch_read().fetch_read().fetch_read().fetch_read()
    g.fetch_read().fetch_read().fetch_read().fetch_read()
    seeds["bad-indirect"] = g.encode()
    g.feat = FH
    seeds["indirect-not-negotiated"] = g.encode()

    # zero length, wrong direction, outside memory, across a region's end
    # into the next (good) and into nothing (bad), a buffer at 2^64 - 16
    g = PackedGuest(12, [(base, 4096), (base + 4096, 4096), (0x7fff0000, 512)], feat=FH)
    g.post(1, id=0, blen=0)
    g.post(1, kind=K_WRITE, id=1, blen=100)
    g.post(2, id=2, boff=100, blen=100, stride=0x9000)
    g.post(1, id=3, boff=4000, blen=200)                  # spans regions 0 and 1
    g.post(1, id=4, breg=1, boff=4000, blen=200)          # runs off region 1
    g.raw_post((1 << 64) - 16, 32, 5, 0)
    g.post(1, id=6, breg=2, boff=0, blen=512)
    for _ in range(7):
        g.fetch_read(a=77, put=True)
    g.simple(PO_PUBLISH)
    seeds["bad-buffers"] = g.encode()

    # TX length limits: shorter than the header; the largest frame; one
    # byte more
    g = PackedGuest(16, [(base, 16384)], feat=FH)
    g.post(1, id=0, blen=11)
    g.post(5, id=1, blen=16384, stride=0)
    g.slot(g.dpos - 1, base, 65804 - 4 * 16384, 1, g.phase(g.dwrap))
    g.post(5, id=2, blen=16384, stride=0)
    g.slot(g.dpos - 1, base, 65805 - 4 * 16384, 2, g.phase(g.dwrap))
    g.fetch_read().fetch_read(a=254).fetch_read()
    seeds["tx-length-limits"] = g.encode()

    # the refusal budget: 70 zero-length chains, then a frame dropped for
    # it; a new burst takes the rest
    g = PackedGuest(128, [(base, 4096)])
    for i in range(70):
        g.post(1, kind=K_WRITE, id=i, blen=0)
    g.post(1, kind=K_WRITE, id=70, blen=2048)
    g.enqueue(100).simple(PO_BURST).enqueue(100).simple(PO_PUBLISH)
    seeds["bad-budget"] = g.encode()

    # the descriptor budget: 70 chains of 128 slots, read 64 at a time
    g = PackedGuest(9000, [(base, 4096)])
    for i in range(70):
        g.post(128, id=i, blen=8, stride=8)
    for i in range(70):
        g.fetch_read(put=True)
    g.simple(PO_BURST).fetch_read(put=True).fetch_read(put=True)
    seeds["desc-budget"] = g.encode()

    # bad entries in tables: of the wrong direction, of length 0
    g = PackedGuest(8, [(base, 8192)], feat=FI | FH)
    g.post(3, kind=K_INDIRECT | K_WRITE, id=0, blen=100, stride=128, toff=0x1000)
    g.post(3, kind=K_INDIRECT, id=1, blen=0, toff=0x1100)
    g.post(2, kind=K_INDIRECT, id=2, blen=100, stride=128, toff=0x1200)
    g.fetch_read().fetch_read().fetch_read().simple(PO_PUBLISH)
    seeds["table-bad-entries"] = g.encode()

    # the budget running out part of the way through a chain (taken in
    # the next burst), and inside an indirect table
    g = PackedGuest(9000, [(base, 16384)], feat=FI)
    for i in range(81):
        g.post(100, id=i, blen=8, stride=8)
    g.post(120, kind=K_INDIRECT, id=81, blen=8, stride=8, toff=0)
    g.post(100, id=82, blen=8, stride=8)
    for i in range(82):
        g.fetch_read(put=True)
    g.simple(PO_BURST).fetch_read(put=True).fetch_read(put=True)
    for i in range(82):
        g.post(100, id=i, blen=8, stride=8)
    for i in range(82):
        g.fetch_read(put=True)
    g.simple(PO_BURST).fetch_read(put=True)
    seeds["desc-budget-partial"] = g.encode()

    # more than two laps of used slots between two call decisions (a ring
    # of 2, the guest reposting at once), and an event offset past the ring
    g = PackedGuest(2, [(base, 4096)], feat=FE, ev=(0x0001, EV_DESC))
    g.post(1, id=0, blen=100)
    g.fetch_read(put=True).simple(PO_PUBLISH)
    for i in range(5):
        g.post(1, id=i % 2, blen=100)
        g.fetch_read(put=True)
    g.simple(PO_PUBLISH)
    g.post(1, id=0, blen=100)
    g.fetch_read(put=True).event(0x8005, EV_DESC).simple(PO_PUBLISH)
    seeds["event-two-laps"] = g.encode()

    # a mergeable frame whose buffers run out right after a bad chain: the
    # buffer taken before it comes back with len 0
    g = PackedGuest(8, [(base, 4096)], feat=FM | FH)
    g.post(1, kind=K_WRITE, id=0, blen=500)
    g.post(1, kind=K_WRITE, id=1, boff=512, blen=0)
    g.enqueue(1000).simple(PO_PUBLISH)
    seeds["rx-mergeable-bad-last"] = g.encode()

    # the VMM hands over a used position behind the avail one; the guest
    # rewrites a held chain's slots (the device has read them already)
    g = PackedGuest(10, [(base, 4096)], avail=7, used=2, used_wrap=0)
    g.post(2, id=3, blen=50, stride=64)
    g.post(1, id=4, blen=60)
    g.fetch_read().fetch_read()
    g.slot(7, 0xdead0000, 0, 9, 0xffff)
    g.put(1).put(0).simple(PO_PUBLISH)
    seeds["handover-rewrite"] = g.encode()

    # ---- used_batch: used elements kept back until PUBLISH ----
    FB = FEAT_BATCH

    # the shapes above with the elements kept back: TX across the end,
    # put out of order; mergeable RX with a short first buffer and a bad
    # chain between buffers; event suppression
    for name in ("tx-wrap", "rx-mergeable", "event-desc", "rx-mergeable-bad-last",
                 "id-reused-while-held"):
        d = bytearray(seeds[name])
        d[2] |= FB
        seeds["batch-" + name] = bytes(d)

    # more than the shadow holds in one burst: 64 handed over when the
    # 65th comes, the rest at PUBLISH; some held and put in another order
    g = PackedGuest(80, [(base, 8192)], feat=FB, avail=70)
    for i in range(72):
        g.post(1, id=i, boff=(i % 64) * 64, blen=40)
    for i in range(66):
        g.fetch_read(put=True)
    g.fetch_read().fetch_read().fetch_read().put(1).put(0).put(0)
    g.fetch_read(put=True).simple(PO_PUBLISH)
    seeds["batch-shadow-full"] = g.encode()

    # mergeable: 62 one-buffer frames kept, then a 4-buffer one that does
    # not fit the rest (the 62 handed over first); then 3 kept and a frame
    # of 70 buffers (more than the shadow: the 3 and it at once)
    g = PackedGuest(256, [(base, 16384)], feat=FM | FH | FB, nethdr=hdr12)
    for i in range(66):
        g.post(1, kind=K_WRITE, id=i, boff=i * 200, blen=200)
    for i in range(62):
        g.enqueue(100)
    g.enqueue(700).simple(PO_PUBLISH)
    for i in range(3):
        g.post(1, kind=K_WRITE, id=66 + i, boff=i * 200, blen=200)
    for i in range(70):
        g.post(1, kind=K_WRITE, id=69 + i, boff=800 + i * 32, blen=32)
    g.enqueue(50).enqueue(50).enqueue(50).enqueue(70 * 32 - 12).simple(PO_PUBLISH)
    seeds["batch-frames-over-shadow"] = g.encode()

    # the guest posts an id we keep (its used element not handed over
    # yet): the ring breaks; the kept element still goes at PUBLISH
    g = PackedGuest(8, [(base, 4096)], feat=FB)
    g.post(1, id=3, blen=100)
    g.fetch_read(put=True)
    g.post(1, id=3, boff=256, blen=100)
    g.fetch_read().simple(PO_PUBLISH)
    seeds["batch-kept-id-reused"] = g.encode()

    # a bad chain between kept elements (kept after them, in ring
    # order), an unfetch after a kept one, the call decision at PUBLISH
    g = PackedGuest(6, [(base, 4096)], feat=FE | FH | FB, ev=(0x8002, EV_DESC), avail=4)
    g.post(1, id=0, blen=100)
    g.post(1, id=1, blen=0)
    g.post(2, id=2, boff=200, blen=100, stride=128)
    g.post(1, id=3, boff=600, blen=100)
    g.fetch_read(put=True).fetch_read().fetch_read(put=True).fetch_read()
    g.simple(PO_UNFETCH).fetch_read(put=True).simple(PO_PUBLISH)
    seeds["batch-bad-unfetch"] = g.encode()

    # ---- IN_ORDER with used_batch: kept TX elements handed over as one ----
    FO = FEAT_IN_ORDER
    for name in ("batch-tx-wrap", "batch-shadow-full", "batch-bad-unfetch",
                 "batch-rx-mergeable", "batch-kept-id-reused"):
        d = bytearray(seeds[name])
        d[2] |= FO
        seeds["inorder-" + name] = bytes(d)
    # chains of 1..3 slots across the ring's end, the last one held over
    # PUBLISH (not among the elements made one), the guest reposting the
    # ids the one element gave back
    g = PackedGuest(12, [(base, 8192)], feat=FB | FO, avail=8, used=8)
    for i in range(4):
        g.post(1 + i % 3, id=i, boff=i * 256, blen=60, stride=64)
    for i in range(4):
        g.fetch_read(put=i != 3)
    g.simple(PO_PUBLISH)
    for i in range(2):
        g.post(1, id=i, boff=2048 + i * 128, blen=60)
    g.fetch_read(put=True).fetch_read(put=True).put(0).simple(PO_PUBLISH)
    seeds["inorder-tx-one-element"] = g.encode()

    # ---- the crash state attached, as the PMD's rings have it: the
    # hand-over may release the held ids by clearing the whole bitmap
    # (when it holds exactly the elements' ids) ----
    for name in ("batch-tx-wrap", "batch-shadow-full", "batch-bad-unfetch",
                 "batch-frames-over-shadow", "batch-kept-id-reused",
                 "inorder-batch-shadow-full", "inorder-tx-one-element"):
        d = bytearray(seeds[name])
        d[2] |= FEAT_STATE
        seeds["state-" + name] = bytes(d)

    # ---- RELOAD: the same ring loaded again (a new memory table) while
    # chains are out: their ids stay held, a guest reposting one is
    # refused after the reload as before; given back, the id is the
    # guest's again ----
    for feat, name in ((FB, "reload-held"), (FB | FEAT_STATE, "reload-held-state"),
                       (FB | FO | FEAT_STATE, "reload-held-inorder")):
        g = PackedGuest(8, [(base, 8192)], feat=feat, avail=6, used=6)
        for i in range(3):
            g.post(1, id=i, boff=i * 256, blen=100)
        g.fetch_read().fetch_read(put=True).fetch_read()   # ids 0 and 2 held
        g.simple(PO_RELOAD)
        g.put(1).simple(PO_PUBLISH)                        # id 2 back
        g.post(1, id=2, boff=1024, blen=100)               # the guest's again
        g.fetch_read(put=True).simple(PO_PUBLISH)
        g.post(1, id=0, boff=1536, blen=100)               # still ours: refused
        g.fetch_read().simple(PO_RELOAD).simple(PO_PUBLISH)
        seeds[name] = g.encode()
    # a ring broken before the reload, whole after it
    g = PackedGuest(8, [(base, 8192)], feat=FB | FEAT_STATE)
    g.post(1, id=9, blen=100)                              # id out of range
    g.fetch_read().simple(PO_RELOAD)
    g.seek(0, 1).post(1, id=1, blen=100)
    g.fetch_read(put=True).simple(PO_PUBLISH)
    seeds["reload-broken"] = g.encode()
    return seeds


def decode_packed(data):
    """Print what fuzz_packed makes of an input (to read a finding)."""
    data = bytes(data)
    (szc, feat, wraps, avail, used, nreg, _, ow, evf, ops_len) = struct.unpack(
        "<HBBHHBBHHH", data[:16].ljust(16, b"\0"))
    size = 1 + (szc & (63, 1023, 4095, 32767)[szc >> 14])
    nethdr = data[16:28].ljust(12, b"\0")
    print("ring %d feat 0x%x (indirect %d event_idx %d mrg %d hdr %d used_batch %d in_order %d) "
          "avail %d/%d used %d/%d regions %d event off_wrap 0x%04x flags %d nethdr %s" % (
              size, feat, feat & 1, feat >> 1 & 1, feat >> 2 & 1, 12 if feat & 8 else 10,
              feat >> 4 & 1, feat >> 5 & 1,
              avail % size, wraps & 1, used % size, wraps >> 1 & 1, 1 + nreg % 3, ow, evf,
              nethdr.hex()))
    for i in range(1 + nreg % 3):
        gpa, sz, doff, _ = struct.unpack("<QIHH", data[32 + 16 * i:48 + 16 * i].ljust(16, b"\0"))
        print("  region %d gpa 0x%x size %d data at blob+%d" % (i, gpa, 1 + sz % 16384, doff))
    ops = data[80:80 + ops_len]
    pos, n = 0, 0
    names = ["FETCH_READ", "FETCH_WRITE", "ENQUEUE", "PUT", "UNFETCH", "PUBLISH", "BURST",
             "SUPPRESS", "COUNT", "POST", "SLOT", "FLIP", "EVENT", "TABLE", "SEEK"]
    high = {PO_BURST: "RELOAD", PO_SUPPRESS: "KICKS"}
    fmts = ["<B", "<BH", "<HB", "<B", "", "", "", "", "", "<HBHBHHHBH", "<HQIHH", "<HH",
            "<HH", "<BHHBBHHH", "<HB"]
    while pos < len(ops) and n < 512:
        op = ops[pos] % 15
        f = fmts[op]
        sz = struct.calcsize(f) if f else 0
        args = struct.unpack(f, ops[pos + 1:pos + 1 + sz].ljust(sz, b"\0")) if f else ()
        pos += 1 + sz
        n += 1
        if op == PO_POST:
            args = (1 + args[0] % 32768,) + args[1:]
        elif op == PO_SLOT:
            args = (args[0] % size, "0x%x" % args[1]) + args[2:4] + ("0x%04x" % args[4],)
        elif op == PO_FLIP:
            args = (args[0] % size, "0x%04x" % args[1])
        name = high.get(op, names[op]) if ops[pos - 1 - sz] >= 128 else names[op]
        print("  op %d %s %s" % (n, name, " ".join(str(a) for a in args)))
    print("  blob %d bytes" % max(0, len(data) - 80 - ops_len))


# ---- fuzz_offload ------------------------------------------------------

NEEDS_CSUM = 1
GSO_TCPV4, GSO_UDP, GSO_TCPV6, GSO_ECN = 1, 3, 4, 0x80
F_CSUM, F_TSO4, F_TSO6, F_ECN = 1 << 0, 1 << 11, 1 << 12, 1 << 13
ALL = F_CSUM | F_TSO4 | F_TSO6 | F_ECN


def ipv4_csum(h):
    s = sum(struct.unpack("!%dH" % (len(h) // 2), h))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def eth(etype, vlans=()):
    out = bytes.fromhex("525400000002525400000001")
    for tpid, tci in vlans:
        out += struct.pack("!HH", tpid, tci)
    return out + struct.pack("!H", etype)


def ipv4(proto, l4_total, opts=b"", frag=0):
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + l4_total, 0x1234, frag, 64,
                    proto, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + opts
    return h[:10] + struct.pack("!H", ipv4_csum(h)) + h[12:]


def ipv6(proto, l4_total):
    return struct.pack("!IHBB16s16s", 0x60000000, l4_total, proto, 64,
                       bytes(range(16)), bytes(range(16, 32)))


def tcp(flags=0x18, opts=b""):
    doff = 5 + len(opts) // 4
    return struct.pack("!HHIIBBHHH", 40000, 80, 1000, 0, doff << 4, flags, 65535, 0,
                       0) + opts


def udp(length):
    return struct.pack("!HHHH", 5000, 53, length, 0)


def offload_input(nethdr, feats, frame, extra=0, avail=0, pieces=1, cuts=(0, 0, 0),
                  probe=0):
    """frame: the input's frame bytes; extra pattern bytes follow them."""
    flags, gso, hdr_len, gso_size, cs, co = nethdr
    out = struct.pack("<BBHHHHH", flags, gso, hdr_len, gso_size, cs, co, 0)
    # extra: encoded as fuzz_offload decodes it (top bits select the mask)
    if extra < 0x800:
        ev = extra
    elif extra < 0x4000:
        ev = 0x8000 | extra
    else:
        assert extra >= 0xc000
        ev = extra
    out += struct.pack("<IHBB3BB", feats, ev, avail, pieces - 1, *cuts, probe)
    assert len(out) == 24
    return out + frame


def l4_frame(ipv, proto, payload_len, vlans=(), ip_opts=b"", tcp_opts=b"",
             tcp_flags=0x18, frag=0, pad=0, inline=None):
    """Headers + payload_len bytes; the payload beyond `inline` input bytes
    comes from fuzz_offload's pattern (extra). Returns (frame, extra)."""
    l4h = tcp(tcp_flags, tcp_opts) if proto == 6 else udp(8 + payload_len)
    l4_total = len(l4h) + payload_len
    if ipv == 4:
        h = eth(0x0800, vlans) + ipv4(proto, l4_total, ip_opts, frag)
    else:
        h = eth(0x86dd, vlans) + ipv6(proto, l4_total)
    h += l4h
    n_in = payload_len + pad if inline is None else min(inline, payload_len + pad)
    if 0x4000 <= payload_len + pad - n_in < 0xc000:
        # no encoding for that much extra: put the difference inline
        n_in = payload_len + pad - 0x3fff
    return h + frame_bytes(n_in, 5), payload_len + pad - n_in


def offload_seeds():
    seeds = {}
    csum_tcp4 = (NEEDS_CSUM, 0, 0, 0, 34, 16)
    fr, ex = l4_frame(4, 6, 100)
    seeds["plain"] = offload_input((0, 0, 0, 0, 0, 0), ALL, fr, ex)
    seeds["csum-tcp4"] = offload_input(csum_tcp4, ALL | 1 << 31, fr, ex, pieces=3,
                                       cuts=(40, 41, 0))
    fr, ex = l4_frame(4, 17, 333, pad=6)
    seeds["csum-udp4-padded"] = offload_input((NEEDS_CSUM, 0, 0, 0, 34, 6), ALL, fr, ex,
                                              pieces=2, cuts=(77, 0, 0))
    fr, ex = l4_frame(6, 6, 1200, inline=64)
    seeds["csum-tcp6"] = offload_input((NEEDS_CSUM, 0, 0, 0, 54, 16), ALL, fr, ex,
                                       pieces=4, cuts=(3, 100, 200))
    # a UDP datagram whose checksum comes out 0: sent as 0xffff
    fr, ex = l4_frame(4, 17, 64)
    assert ex == 0
    fr = bytearray(fr)
    fr[-2:] = b"\0\0"
    ph = fr[26:34] + struct.pack("!BBH", 0, 17, 8 + 64)
    s = sum(struct.unpack("!%dH" % ((len(ph) + len(fr) - 34) // 2), bytes(ph) + bytes(fr[34:])))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    fr[-2:] = struct.pack("!H", 0xffff - s)
    seeds["csum-udp4-zero"] = offload_input((NEEDS_CSUM, 0, 0, 0, 34, 6), ALL, bytes(fr))
    fr, ex = l4_frame(6, 17, 50)
    seeds["csum-udp6"] = offload_input((NEEDS_CSUM, 0, 0, 0, 54, 6), ALL, fr, ex)
    fr, ex = l4_frame(4, 6, 100)
    seeds["csum-raw"] = offload_input((NEEDS_CSUM, 0, 0, 0, 20, 7), ALL, fr, ex,
                                      pieces=2, cuts=(31, 0, 0))
    fr, ex = l4_frame(4, 6, 100, frag=0x2000)
    seeds["csum-fragment"] = offload_input(csum_tcp4, ALL, fr, ex)
    seeds["csum-not-negotiated"] = offload_input(csum_tcp4, F_TSO4, fr, ex)
    seeds["csum-outside"] = offload_input((NEEDS_CSUM, 0, 0, 0, 150, 16), ALL, fr, ex)

    fr, ex = l4_frame(4, 6, 4000, inline=64)
    seeds["tso4"] = offload_input((NEEDS_CSUM, GSO_TCPV4, 0, 1448, 34, 16), ALL, fr, ex,
                                  pieces=3, cuts=(10, 128, 0))
    seeds["tso4-no-csum-flag"] = offload_input((0, GSO_TCPV4, 0, 1000, 0, 0), ALL, fr, ex)
    seeds["tso4-not-negotiated"] = offload_input((NEEDS_CSUM, GSO_TCPV4, 0, 1448, 34, 16),
                                                 F_CSUM | F_TSO6, fr, ex)
    seeds["tso-udp"] = offload_input((NEEDS_CSUM, GSO_UDP, 0, 1448, 34, 16), ALL, fr, ex)
    fr, ex = l4_frame(4, 6, 3000, tcp_flags=0x80 | 0x18 | 0x01, inline=32)
    seeds["tso4-ecn-cwr-fin"] = offload_input((NEEDS_CSUM, GSO_TCPV4 | GSO_ECN, 0, 1000,
                                               34, 16), ALL, fr, ex)
    fr, ex = l4_frame(6, 6, 9000, inline=32)
    seeds["tso6"] = offload_input((NEEDS_CSUM, GSO_TCPV6, 0, 1440, 54, 16), ALL, fr, ex,
                                  pieces=2, cuts=(1, 0, 0))
    fr, ex = l4_frame(4, 6, 5000, vlans=((0x88a8, 100), (0x8100, 200)),
                      ip_opts=bytes([1, 1, 1, 1, 1, 1, 1, 0]),
                      tcp_opts=bytes([1, 1, 8, 10]) + bytes(8), inline=16)
    seeds["tso4-qinq-options"] = offload_input((NEEDS_CSUM, GSO_TCPV4, 0, 1300,
                                                22 + 28, 16), ALL, fr, ex)
    # exactly VDP_GSO_MAX_SEGS segments of the smallest mss, and one more
    fr, ex = l4_frame(4, 6, 16384, inline=0)
    seeds["tso4-max-segs"] = offload_input((0, GSO_TCPV4, 0, 16, 0, 0), ALL, fr, ex)
    fr, ex = l4_frame(4, 6, 16385, inline=0)
    seeds["tso4-too-many-segs"] = offload_input((0, GSO_TCPV4, 0, 16, 0, 0), ALL, fr, ex)
    # a 64 KiB IPv4 packet cut at mss 1460; one that fits in one segment
    fr, ex = l4_frame(4, 6, 65535 - 40, inline=0)
    seeds["tso4-64k"] = offload_input((NEEDS_CSUM, GSO_TCPV4, 0, 1460, 34, 16), ALL, fr,
                                      ex, pieces=4, cuts=(1, 2, 250))
    fr, ex = l4_frame(4, 6, 100)
    seeds["tso4-min-mss"] = offload_input((NEEDS_CSUM, GSO_TCPV4, 0, 16, 34, 16),
                                          ALL | 1 << 31, fr, ex)
    fr, ex = l4_frame(4, 6, 500)
    seeds["tso4-one-segment"] = offload_input((NEEDS_CSUM, GSO_TCPV4, 0, 1460, 34, 16),
                                              ALL, fr, ex)
    fr, ex = l4_frame(4, 6, 3000, pad=4)
    seeds["tso4-padded"] = offload_input((NEEDS_CSUM, GSO_TCPV4, 0, 1000, 34, 16), ALL,
                                         fr, ex)
    # three VLAN tags: not a frame whose headers we know (at most two)
    fr, ex = l4_frame(4, 6, 300, vlans=((0x8100, 1), (0x8100, 2), (0x8100, 3)))
    seeds["three-vlan-tags"] = offload_input(csum_tcp4, ALL, fr, ex)
    fr, ex = l4_frame(4, 6, 300)
    seeds["short-parse"] = offload_input(csum_tcp4, ALL, fr, ex, avail=40)
    return seeds


# ---- fuzz_vumsg --------------------------------------------------------

VU_FD_REG, VU_FD_EVENTFD, VU_FD_OTHER = 1, 2, 3
VU_FEATS = (1 << 32) | (1 << 30) | (1 << 29) | (1 << 28) | (1 << 15)
VU_PFEATS = 0x10019


def vumsg_input(req, payload, fds=(), flags=1, size=None, feats=VU_FEATS,
                pfeats=VU_PFEATS, max_vrings=256):
    """One fuzz_vumsg input: header, fd facts (kind, file size), policy,
    payload (layout at the top of fuzz_vumsg.c). fds: (kind, bytes)."""
    size = len(payload) if size is None else size
    out = bytearray(struct.pack("<BBHB", req, flags, size, len(fds)))
    out += bytes([f[0] for f in fds] + [0] * (9 - len(fds)))
    for i in range(9):
        out += struct.pack("<I", (fds[i][1] // 4096) & 0xFFFFFF if i < len(fds) else 0)
    out += bytes([12] * 9)          # page size 4 KiB
    out += struct.pack("<QQH", feats, pfeats, max_vrings)
    assert len(out) == 77
    return bytes(out) + payload


def vumsg_seeds():
    def region(gpa, size, uva, off):
        return struct.pack("<QQQQ", gpa, size, uva, off)

    def table(*regions):
        return struct.pack("<II", len(regions), 0) + b"".join(regions)

    m = vumsg_input
    seeds = {}
    seeds["mem-table-1"] = m(5, table(region(0, 32 << 20, 0x7F0000000000, 0)),
                             [(VU_FD_REG, 32 << 20)])
    # QEMU's shape: below and above the 4 GiB hole, one file
    seeds["mem-table-2-qemu"] = m(5, table(region(0, 2 << 30, 0x7F0000000000, 0),
                                           region(4 << 30, 2 << 30, 0x7F8000000000, 2 << 30)),
                                  [(VU_FD_REG, 2 << 30), (VU_FD_REG, 4 << 30)])
    seeds["mem-table-past-end"] = m(5, table(region(0, 64 << 20, 0x7F0000000000, 0)),
                                    [(VU_FD_REG, 8 << 20)])
    seeds["mem-table-overlap"] = m(5, table(region(0, 4 << 20, 0x7F0000000000, 0),
                                            region(2 << 20, 4 << 20, 0x7F0000800000, 0)),
                                   [(VU_FD_REG, 8 << 20), (VU_FD_REG, 8 << 20)])
    seeds["mem-table-fd-missing"] = m(5, table(region(0, 32 << 20, 0x7F0000000000, 0)))
    seeds["vring-num"] = m(8, struct.pack("<II", 0, 256))
    seeds["vring-num-0"] = m(8, struct.pack("<II", 1, 0))
    seeds["vring-num-not-pow2"] = m(8, struct.pack("<II", 1, 1000))
    seeds["vring-base"] = m(10, struct.pack("<II", 1, 0))
    seeds["vring-index-too-big"] = m(10, struct.pack("<II", 300, 0))
    seeds["vring-addr"] = m(9, struct.pack("<IIQQQQ", 0, 0, 0x7F0000001000, 0x7F0000003000,
                                           0x7F0000002000, 0))
    seeds["vring-addr-log"] = m(9, struct.pack("<IIQQQQ", 0, 1, 0x7F0000001000,
                                               0x7F0000003000, 0x7F0000002000, 0x1000))
    seeds["vring-kick"] = m(12, struct.pack("<Q", 0), [(VU_FD_EVENTFD, 0)])
    seeds["vring-call"] = m(13, struct.pack("<Q", 1), [(VU_FD_EVENTFD, 0)])
    seeds["vring-call-nofd"] = m(13, struct.pack("<Q", 1 | 0x100))
    seeds["vring-call-pipe"] = m(13, struct.pack("<Q", 1), [(VU_FD_OTHER, 0)])
    seeds["vring-call-two-fds"] = m(13, struct.pack("<Q", 1),
                                    [(VU_FD_EVENTFD, 0), (VU_FD_EVENTFD, 0)])
    seeds["vring-enable"] = m(18, struct.pack("<II", 1, 1))
    seeds["vring-enable-2"] = m(18, struct.pack("<II", 1, 2))
    seeds["features"] = m(2, struct.pack("<Q", (1 << 32) | (1 << 15)))
    seeds["features-log-all"] = m(2, struct.pack("<Q", (1 << 32) | (1 << 26)))
    seeds["protocol-features"] = m(16, struct.pack("<Q", 0x9))
    seeds["get-features"] = m(1, b"")
    seeds["get-vring-base"] = m(11, struct.pack("<II", 0, 0), flags=1 | 8)
    seeds["set-log-base"] = m(6, struct.pack("<QQ", 1 << 20, 0), [(VU_FD_REG, 1 << 20)])
    seeds["set-status"] = m(39, struct.pack("<Q", 15))
    # SEND_RARP with RARP offered (protocol feature 2): unicast, multicast
    seeds["send-rarp"] = m(19, bytes([0x52, 0x54, 0, 0x63, 0, 1, 0, 0]), pfeats=VU_PFEATS | 4)
    seeds["send-rarp-group"] = m(19, bytes([0x01, 0, 0x5e, 0, 0, 1, 0, 0]), pfeats=VU_PFEATS | 4)
    seeds["reset-owner"] = m(4, b"")
    seeds["truncated"] = m(8, struct.pack("<I", 0), size=8)
    seeds["unknown"] = m(44, bytes(16))
    return seeds

# ---- fuzz_peer ---------------------------------------------------------

PEER_MEM, PEER_GPA = 0x4000, 0x100000
PS_A_PACKED, PS_B_PACKED, PS_MRG, PS_HDR12 = 1, 2, 4, 8
PS_INDIRECT, PS_IN_ORDER, PS_EVENT_IDX, PS_PRE = 16, 32, 64, 128


class PeerGuest:
    """One guest memory with a TX ring (a, at 0x0000) and an RX ring (b,
    at 0x1000), each split or packed, as fuzz_peer lays them out."""

    def __init__(self, shape, size_a, size_b):
        self.shape = shape
        self.mem = bytearray(PEER_MEM)
        self.hl = 12 if shape & PS_HDR12 else 10
        self.rings = {}
        for name, base, packed, size in (("a", 0x0000, shape & PS_A_PACKED, size_a),
                                         ("b", 0x1000, shape & PS_B_PACKED, size_b)):
            self.rings[name] = {"base": base, "packed": bool(packed), "size": size,
                                "pos": 0, "wrap": 1, "id": 0}
        self.patches = bytearray()

    def code(self, name):
        r = self.rings[name]
        if r["packed"]:
            return r["size"] - 1
        return r["size"].bit_length() - 1

    def _desc(self, name, slot, addr, ln, flags, ident_or_next):
        r = self.rings[name]
        off = r["base"] + 16 * slot
        if r["packed"]:
            self.mem[off:off + 16] = struct.pack("<QIHH", addr, ln, ident_or_next, flags)
        else:
            self.mem[off:off + 16] = struct.pack("<QIHH", addr, ln, flags, ident_or_next)

    def post(self, name, bufs, write=False):
        """A chain of buffers (gpa offset, len) at the ring's position."""
        r = self.rings[name]
        n = len(bufs)
        wf = 2 if write else 0
        if r["packed"]:
            ident = r["id"] % r["size"]
            r["id"] += 1
            slots = []
            for i, (off, ln) in enumerate(bufs):
                slots.append((r["pos"], r["wrap"]))
                nxt = 1 if i + 1 < n else 0
                flags = wf | nxt | (0x80 if r["wrap"] else 0x8000)
                self._desc(name, r["pos"], PEER_GPA + off, ln, flags, ident)
                r["pos"] += 1
                if r["pos"] == r["size"]:
                    r["pos"] = 0
                    r["wrap"] ^= 1
            return ident
        # split: descriptors at the chain's own slots, then the avail entry
        head = r["pos"] % r["size"]
        for i, (off, ln) in enumerate(bufs):
            d = (head + i) % r["size"]
            nxt = 1 if i + 1 < n else 0
            self._desc(name, d, PEER_GPA + off, ln, wf | nxt, (d + 1) % r["size"])
        av = r["base"] + 0x400
        idx = struct.unpack_from("<H", self.mem, av + 2)[0]
        struct.pack_into("<H", self.mem, av + 4 + 2 * (idx % r["size"]), head)
        struct.pack_into("<H", self.mem, av + 2, (idx + 1) & 0xffff)
        r["pos"] += n
        return head

    def frame(self, name, off, payload, nethdr=b"", split_at=0):
        """A TX frame: header + payload at off, in one or two buffers."""
        hdr = nethdr.ljust(self.hl, b"\0")[:self.hl]
        data = hdr + payload
        self.mem[off:off + len(data)] = data
        if split_at and split_at < len(data):
            return self.post(name, [(off, split_at), (off + split_at, len(data) - split_at)])
        return self.post(name, [(off, len(data))])

    def patch(self, off, data):
        self.patches += struct.pack("<HB", off, len(data)) + data

    def later(self, fn):
        """What fn writes into the memory, applied as patches before the
        second burst instead of now (the guest posting more buffers
        between bursts)."""
        before = bytes(self.mem)
        fn()
        i = 0
        while i < len(self.mem):
            if self.mem[i] == before[i]:
                i += 1
                continue
            j = i
            while j < len(self.mem) and j - i < 31 and self.mem[j] != before[j]:
                j += 1
            if (j - i) % 3 == 0:   # a length of 3k would end the burst's patches
                j -= 1 if j - i > 1 else -1
            self.patch(i, bytes(self.mem[i:j]))
            i = j
        self.mem[:] = before

    def encode(self, maxb=32, bursts=1, policy=0, hold=0):
        return (struct.pack("<BBBBBBH", self.shape, self.code("a"), self.code("b"), maxb - 1,
                            (bursts - 1) | hold << 3, policy, len(self.patches)) +
                bytes(self.mem) + bytes(self.patches))


def peer_seeds():
    seeds = {}
    for shape, name in ((0, "split-split"), (PS_A_PACKED | PS_B_PACKED, "packed-packed"),
                        (PS_B_PACKED, "split-packed"), (PS_A_PACKED, "packed-split")):
        for mrg in (0, PS_MRG | PS_HDR12):
            g = PeerGuest(shape | mrg, 16, 32)
            for i in range(12):
                g.frame("a", 0x2000 + i * 256, frame_bytes(60 + 15 * i, i),
                        split_at=g.hl if i % 3 == 1 else 0)
            for i in range(24):
                g.post("b", [(0x3000 + i * 160, 160)], write=True)
            seeds["%s%s" % (name, "-mrg" if mrg else "")] = g.encode(maxb=8, bursts=3)
    # frames that ask for offload work: every owner answer in turn
    for pol, pname in ((0x00, "copy"), (0x55, "drop"), (0xaa, "mbuf"), (0xe4, "mixed"),
                       (0xff, "mbuf-fails")):
        g = PeerGuest(PS_A_PACKED | PS_MRG | PS_HDR12 | (PS_PRE if pol == 0 else 0), 8, 16)
        for i in range(6):
            g.frame("a", 0x2000 + i * 256, frame_bytes(100, i), nethdr=b"\x01")
        for i in range(12):
            g.post("b", [(0x3000 + i * 256, 256)], write=True)
        seeds["offload-" + pname] = g.encode(maxb=16, bursts=2, policy=pol)
    # IN_ORDER packed: the burst's chains one used element; a full receiver
    g = PeerGuest(PS_A_PACKED | PS_B_PACKED | PS_IN_ORDER | PS_EVENT_IDX, 16, 4)
    for i in range(14):
        g.frame("a", 0x2000 + i * 128, frame_bytes(64, i))
    for i in range(4):
        g.post("b", [(0x3000 + i * 256, 256)], write=True)
    seeds["inorder-full-receiver"] = g.encode(maxb=32, bursts=2)
    # frames bigger than a receive buffer: mergeable across several, and
    # too big without it
    for mrg in (0, PS_MRG | PS_HDR12):
        g = PeerGuest(PS_B_PACKED | mrg, 4, 16)
        for i in range(3):
            g.frame("a", 0x2000 + i * 1024, frame_bytes(900, i))
        for i in range(16):
            g.post("b", [(0x3000 + i * 128, 128)], write=True)
        seeds["big-frames%s" % ("-mrg" if mrg else "")] = g.encode(maxb=4, bursts=2)
    # hostile: a's buffers over b's ring and b's buffers over a's ring, a
    # chain of indirect table, and the guest rewriting rings between bursts
    g = PeerGuest(PS_INDIRECT | PS_MRG | PS_HDR12, 8, 8)
    g.post("a", [(0x1000, 96)])
    g.post("a", [(0x2000, 64), (0x1400, 40)])
    g.frame("a", 0x2400, frame_bytes(80, 7))
    for i in range(4):
        g.post("b", [(0x0000 + i * 64, 64)], write=True)
    g.post("b", [(0x3000, 512)], write=True)
    g.patch(0x0402, struct.pack("<H", 9))      # a's avail idx jumps
    g.patch(0x1402, struct.pack("<H", 0))      # b's goes back
    seeds["alias-and-rewrite"] = g.encode(maxb=8, bursts=3)
    # a receiver that runs out: hold() says yes (or, in turn, yes and no),
    # the receiver posts more buffers before the second burst
    for shape, name in ((0, "split-split"), (PS_A_PACKED | PS_B_PACKED, "packed-packed"),
                        (PS_B_PACKED, "split-packed"), (PS_A_PACKED, "packed-split")):
        for hold, hname in ((0xf, "yes"), (0x5, "mixed")):
            g = PeerGuest(shape | PS_MRG | PS_HDR12, 16, 16)
            for i in range(10):
                g.frame("a", 0x2000 + i * 128, frame_bytes(64 + i, i),
                        nethdr=b"\x01" if i == 6 else b"")
            # yes: out after 3 (a pass cut short); mixed: after 6, just
            # before the frame asking for offload work (moved on its own)
            first = 3 if hold == 0xf else 6
            for i in range(first):
                g.post("b", [(0x3000 + i * 160, 160)], write=True)
            g.later(lambda g=g, first=first: [g.post("b", [(0x3000 + i * 160, 160)], write=True)
                                              for i in range(first, 12)])
            seeds["hold-%s-%s" % (hname, name)] = g.encode(maxb=16, bursts=3, hold=hold)
    # too few mergeable buffers for a frame (not none): it waits, plain or
    # asking for a checksum (offload's COPY answer), then goes once more
    # buffers come
    for shape, name in ((0, "split-split"), (PS_A_PACKED | PS_B_PACKED, "packed-packed")):
        for csum in (False, True):
            g = PeerGuest(shape | PS_MRG | PS_HDR12, 8, 32)
            g.frame("a", 0x2000, frame_bytes(60, 0))
            g.frame("a", 0x2100, frame_bytes(900, 1), nethdr=b"\x01" if csum else b"")
            g.frame("a", 0x2600, frame_bytes(900, 2))
            for i in range(4):
                g.post("b", [(0x3000 + i * 128, 128)], write=True)
            g.later(lambda g=g: [g.post("b", [(0x3000 + i * 128, 128)], write=True)
                                 for i in range(4, 24)])
            seeds["hold-few-bufs-%s%s" % ("csum-" if csum else "", name)] = \
                g.encode(maxb=8, bursts=3, policy=0, hold=0xf)
    return seeds


GENERATORS = {"split": split_seeds, "offload": offload_seeds,
              "vumsg": vumsg_seeds, "packed": packed_seeds, "peer": peer_seeds}


def decode_split(data):
    """Print what fuzz_split makes of an input (to read a finding)."""
    data = bytes(data)
    pos = [0]

    def take(n):
        b = data[pos[0]:pos[0] + n].ljust(n, b"\0")
        pos[0] += n
        return b

    (log2, feat, ops, bursts, nread, nwrite, la, ui, step, nreg,
     nframes) = struct.unpack("<BBBBBBHHHBB", take(14))
    size = 1 << (log2 % 9)
    frames = struct.unpack("<3H", take(6))
    cuts = struct.unpack("<3B", take(3))
    rd_sel, wr_off, wr_len, probe = struct.unpack("<BHHB3x", take(9))
    nethdr = take(12)
    print("ring %d feat 0x%x (indirect %d event_idx %d mrg %d hdr %d) ops 0x%x "
          "bursts %d nread %d nwrite %d" % (size, feat, feat & 1, feat >> 1 & 1,
                                            feat >> 2 & 1, 12 if feat & 8 else 10, ops,
                                            1 + bursts % 4, nread % 33, nwrite % 33))
    print("last_avail %d used_idx %d avail_step %d regions %d frames %d %s cuts %s "
          "rd_sel %d wr %d+%d probe %d nethdr %s" % (
              la, ui, step, 1 + nreg % 3, nframes % 4,
              ["0x%04x" % f for f in frames], cuts, rd_sel, wr_off, wr_len % 4096,
              probe, nethdr.hex()))
    for i in range(size):
        a, ln, fl, nx = struct.unpack("<QIHH", take(16))
        if a or ln or fl or nx:
            print("  desc[%d] addr 0x%x len %d flags %s next %d" % (
                i, a, ln, "|".join(n for b, n in ((1, "NEXT"), (2, "WRITE"),
                                                  (4, "INDIRECT")) if fl & b) or fl,
                nx))
    aflags, aidx = struct.unpack("<HH", take(4))
    ring = struct.unpack("<%dH" % size, take(2 * size))
    (uev,) = struct.unpack("<H", take(2))
    print("  avail flags %d idx %d ring %s used_event %d" % (aflags, aidx, list(ring),
                                                            uev))
    for i in range(3):
        gpa, sz, doff, _ = struct.unpack("<QIHH", take(16))
        if i <= nreg % 3:
            print("  region %d gpa 0x%x size %d data at blob+%d" % (
                i, gpa, 1 + sz % 16384, doff))
    print("  blob %d bytes" % (len(data) - pos[0]))


def main(argv):
    decoders = {"split": decode_split, "packed": decode_packed}
    if len(argv) == 4 and argv[1] == "--decode" and argv[2] in decoders:
        with open(argv[3], "rb") as f:
            decoders[argv[2]](f.read())
        return 0
    targets = argv[1:] or sorted(GENERATORS)
    for t in targets:
        gen = GENERATORS.get(t)
        if gen is None:
            print("seeds.py: no seed generator for target %s (skipped)" % t)
            continue
        d = os.path.join(HERE, "corpus", t)
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if name.startswith("seed-"):
                os.unlink(os.path.join(d, name))
        seeds = gen()
        for name, data in sorted(seeds.items()):
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
        print("seeds.py: %s: %d seeds in %s" % (t, len(seeds), os.path.relpath(d)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
