# SPDX-License-Identifier: BSD-3-Clause
"""A vhost-user frontend in pure Python: the VMM's side of the socket (what
QEMU does) plus a minimal virtio-net guest driver on split rings, for tests
that play a hostile VMM/guest against a vhost-user backend.

References (read for facts; nothing here is copied from an implementation):
  - the vhost-user protocol specification (QEMU docs/interop/vhost-user.rst):
    message header and payloads, SCM_RIGHTS file descriptors, REPLY_ACK,
    the order in which a frontend brings a device up;
  - VIRTIO 1.1 (OASIS), 2.6 "Split Virtqueues" (descriptor table, available
    and used rings, indirect descriptors 2.6.5.3, event suppression 2.6.7
    and 2.6.10) and 5.1 "Network Device" (feature bits 5.1.3, the
    virtio_net_hdr and num_buffers 5.1.6);
  - what DPDK 22.11's librte_vhost (lib/vhost/vhost_user.c) accepts: ring
    addresses of SET_VRING_ADDR are translated through the regions'
    userspace_addr (so a region's "uva" need not be a real address of
    ours); each region is mmap()ed from file offset 0 with length
    mmap_offset + size; a device is "ready" once both vrings have rings,
    kick and call fds and are enabled; GET_VRING_BASE stops it.

Pieces (each usable on its own, so that a test can break any step):

  GuestMemory     memfd regions mapped here, with gpa / uva / mmap_offset,
                  a bump allocator and read/write by guest physical address.
  Conn            the unix socket: raw messages with fds (send, send_raw,
                  recv, closed) and a typed helper per request QEMU uses.
  SplitRing       the driver side of one split virtqueue laid out in
                  GuestMemory, free list kept in Python, raw accessors.
  VirtioNetDevice QEMU 7.2's bring-up of a 1-queue-pair virtio-net device
                  plus a polled guest driver: post RX buffers, send frames,
                  receive frames (mergeable or not), stop, reset.
  proc_*          resource probes of another process (fds, mappings of our
                  memfds, RSS) for leak checks.

Everything is polled against deadlines; nothing sleeps in place of a
condition.  All integers in guest memory are little-endian (VIRTIO 1.x).
"""

import array
import collections
import errno
import fcntl
import itertools
import mmap
import os
import select
import socket
import struct
import time

# ---------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------

# Requests, frontend -> backend (vhost-user spec "Front-end message types").
GET_FEATURES = 1
SET_FEATURES = 2
SET_OWNER = 3
RESET_OWNER = 4
SET_MEM_TABLE = 5
SET_LOG_BASE = 6
SET_LOG_FD = 7
SET_VRING_NUM = 8
SET_VRING_ADDR = 9
SET_VRING_BASE = 10
GET_VRING_BASE = 11
SET_VRING_KICK = 12
SET_VRING_CALL = 13
SET_VRING_ERR = 14
GET_PROTOCOL_FEATURES = 15
SET_PROTOCOL_FEATURES = 16
GET_QUEUE_NUM = 17
SET_VRING_ENABLE = 18
SEND_RARP = 19
NET_SET_MTU = 20
SET_STATUS = 39
GET_STATUS = 40

REQUEST_NAMES = {v: k for k, v in list(globals().items())
                 if isinstance(v, int) and k.startswith(("GET_", "SET_", "RESET_", "SEND_", "NET_"))}

# Header flags.
VERSION = 0x1
F_REPLY = 0x4
F_NEED_REPLY = 0x8
HDR = struct.Struct("<III")          # request, flags, size
HDR_SIZE = HDR.size                  # 12
MAX_FDS = 8                          # librte_vhost reads at most 8 fds
MAX_REGIONS = 8
VRING_IDX_MASK = 0xFF
VRING_NOFD = 0x100                   # u64 of SET_VRING_KICK/CALL/ERR: no fd

# Virtio feature bits (VIRTIO 1.1 5.1.3 and 6).
F_CSUM = 0
F_GUEST_CSUM = 1
F_MTU = 3
F_MAC = 5
F_HOST_TSO4 = 11
F_MRG_RXBUF = 15
F_STATUS = 16
F_CTRL_VQ = 17
F_MQ = 22
F_NOTIFY_ON_EMPTY = 24
F_ANY_LAYOUT = 27
F_INDIRECT_DESC = 28
F_EVENT_IDX = 29
F_PROTOCOL_FEATURES = 30             # vhost-user: VHOST_USER_F_PROTOCOL_FEATURES
F_VERSION_1 = 32
F_ACCESS_PLATFORM = 33
F_RING_PACKED = 34
F_IN_ORDER = 35

# Protocol feature bits (vhost-user spec "Protocol features").
PF_MQ = 0
PF_LOG_SHMFD = 1
PF_RARP = 2
PF_REPLY_ACK = 3
PF_NET_MTU = 4
PF_SLAVE_REQ = 5
PF_CROSS_ENDIAN = 6
PF_CONFIG = 9
PF_STATUS = 16

# Device status bits (VIRTIO 1.1 2.1).
S_ACKNOWLEDGE = 1
S_DRIVER = 2
S_DRIVER_OK = 4
S_FEATURES_OK = 8
S_NEEDS_RESET = 0x40
S_FAILED = 0x80

# Split ring (VIRTIO 1.1 2.6.5, 2.6.6, 2.6.8).
VIRTQ_DESC_F_NEXT = 1
VIRTQ_DESC_F_WRITE = 2
VIRTQ_DESC_F_INDIRECT = 4
VIRTQ_AVAIL_F_NO_INTERRUPT = 1
VIRTQ_USED_F_NO_NOTIFY = 1
DESC = struct.Struct("<QIHH")        # addr, len, flags, next
USED_ELEM = struct.Struct("<II")     # id, len

# virtio-net queues of one queue pair (VIRTIO 1.1 5.1.2).
RX_VRING = 0
TX_VRING = 1

NET_HDR_LEN = 12                     # virtio_net_hdr with num_buffers
NET_HDR_LEN_LEGACY = 10              # without (no VERSION_1, no MRG_RXBUF)

PAGE = 4096
DEFAULT_UVA_BASE = 0x7F0000000000
GIB = 1 << 30


def bit(b):
    return 1 << b


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

class VhostUserError(Exception):
    """Base of the errors of this module."""


class ConnectionClosed(VhostUserError, EOFError):
    """The backend closed the connection (EOF, reset or broken pipe)."""


class ReplyTimeout(VhostUserError, TimeoutError):
    """No (complete) message from the backend before the deadline."""


class ProtocolError(VhostUserError):
    """The backend sent something the protocol does not allow here."""


class RingFull(VhostUserError):
    """Not enough free descriptors (or buffer slots) for a post."""


class DeviceError(VhostUserError):
    """The device wrote something invalid into a ring (bad used id,
    length, num_buffers)."""


def _deadline(timeout):
    return time.monotonic() + timeout


def _left(deadline):
    return deadline - time.monotonic()


def _close_fd(fd):
    if fd is not None and fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass


# ---------------------------------------------------------------------------
# guest memory
# ---------------------------------------------------------------------------

class Region:
    """One region of guest RAM: a memfd of mmap_offset + size bytes mapped
    here MAP_SHARED.  Guest physical [gpa, gpa + size) is file offset
    [mmap_offset, mmap_offset + size), which is how the vhost-user spec
    defines a memory region (the backend maps the fd and skips
    mmap_offset).  uva is the frontend "userspace address" the region is
    announced with; ring addresses are given in it."""

    def __init__(self, name, gpa, size, uva, mmap_offset=0, sealed=False):
        if size <= 0:
            raise ValueError("region size must be > 0")
        self.name = name
        self.gpa = gpa
        self.size = size
        self.uva = uva
        self.mmap_offset = mmap_offset
        self.sealed = sealed
        self.file_size = mmap_offset + size
        flags = os.MFD_CLOEXEC | (os.MFD_ALLOW_SEALING if sealed else 0)
        self.fd = os.memfd_create(name, flags)
        self.map = None
        try:
            os.ftruncate(self.fd, self.file_size)
            if sealed:
                fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
            self.map = mmap.mmap(self.fd, self.file_size, mmap.MAP_SHARED,
                                 mmap.PROT_READ | mmap.PROT_WRITE)
        except BaseException:
            self.close()
            raise

    def __repr__(self):
        return "<Region %s gpa=%#x size=%#x uva=%#x off=%#x fd=%s>" % (
            self.name, self.gpa, self.size, self.uva, self.mmap_offset, self.fd)

    def contains(self, gpa, n=1):
        return self.gpa <= gpa and gpa + n <= self.gpa + self.size

    def offset(self, gpa):
        """Offset in self.map of guest physical address gpa."""
        return self.mmap_offset + (gpa - self.gpa)

    def entry(self):
        """(gpa, size, uva, mmap_offset, fd): a SET_MEM_TABLE entry."""
        return (self.gpa, self.size, self.uva, self.mmap_offset, self.fd)

    def close(self):
        if self.map is not None:
            try:
                self.map.close()
            except (BufferError, ValueError):
                pass
            self.map = None
        _close_fd(self.fd)
        self.fd = -1


_mem_serial = itertools.count(1)


class GuestMemory:
    """Guest RAM made of one or more memfd regions (see Region).

    Each memfd is named "vdp-guest-<tag>.r<i>", so a leak probe can count
    exactly this object's regions in another process (memfd_prefix is
    "vdp-guest-<tag>.").  Defaults: region i at gpa = sum of the previous
    sizes (region 0 at 0), uva = 0x7f0000000000 + i GiB, mmap_offset 0.

    A bump allocator hands out guest physical addresses (alloc); the first
    page of region 0 is never handed out, so gpa 0 stays free for tests
    that want a "null" address.  read/write/pack/unpack work on guest
    physical addresses inside one region.
    """

    def __init__(self, sizes=(32 << 20,), gpas=None, uvas=None, mmap_offsets=None,
                 sealed=False, tag=None):
        if isinstance(sizes, int):
            sizes = (sizes,)
        self.tag = tag or "%d-%d" % (os.getpid(), next(_mem_serial))
        self.memfd_prefix = "vdp-guest-%s." % self.tag
        self.regions = []
        try:
            gpa = 0
            for i, size in enumerate(sizes):
                g = gpas[i] if gpas is not None else gpa
                u = uvas[i] if uvas is not None else DEFAULT_UVA_BASE + i * GIB
                off = mmap_offsets[i] if mmap_offsets is not None else 0
                self.regions.append(Region(self.memfd_prefix + "r%d" % i, g, size, u, off, sealed))
                gpa = g + size
        except BaseException:
            self.close()
            raise
        self.reset_alloc()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- allocation ---------------------------------------------------------
    def reset_alloc(self):
        """Forget every allocation (start again from the bottom)."""
        self._next = [r.gpa for r in self.regions]
        if self.regions:
            self._next[0] = self.regions[0].gpa + min(PAGE, self.regions[0].size)

    def alloc(self, size, align=64, region=None):
        """Allocate size bytes aligned to align; return the gpa.  region
        (index) forces a region, else the first with room is used."""
        if size <= 0:
            raise ValueError("alloc size must be > 0")
        idx = range(len(self.regions)) if region is None else [region]
        for i in idx:
            r = self.regions[i]
            g = (self._next[i] + align - 1) & ~(align - 1)
            if g + size <= r.gpa + r.size:
                self._next[i] = g + size
                return g
        raise MemoryError("guest memory %s: no room for %d bytes (align %d)" % (self.tag, size, align))

    # -- access -------------------------------------------------------------
    def region_of(self, gpa, n=1):
        for r in self.regions:
            if r.contains(gpa, n):
                return r
        raise ValueError("gpa %#x (+%d) is not inside one region of guest memory %s" % (gpa, n, self.tag))

    def gpa_to_uva(self, gpa):
        r = self.region_of(gpa)
        return r.uva + (gpa - r.gpa)

    def uva_to_gpa(self, uva):
        for r in self.regions:
            if r.uva <= uva < r.uva + r.size:
                return r.gpa + (uva - r.uva)
        raise ValueError("uva %#x is in no region" % uva)

    def read(self, gpa, n):
        if n == 0:
            return b""
        r = self.region_of(gpa, n)
        o = r.offset(gpa)
        return bytes(r.map[o:o + n])

    def write(self, gpa, data):
        n = len(data)
        if n == 0:
            return
        r = self.region_of(gpa, n)
        o = r.offset(gpa)
        r.map[o:o + n] = data

    def fill(self, gpa, n, byte=0):
        self.write(gpa, bytes([byte]) * n)

    def pack(self, fmt, gpa, *values):
        """struct.pack_into(fmt, ...) at gpa ("<" is added if fmt has no
        byte-order prefix)."""
        if fmt[0] not in "<>!=@":
            fmt = "<" + fmt
        r = self.region_of(gpa, struct.calcsize(fmt))
        struct.pack_into(fmt, r.map, r.offset(gpa), *values)

    def unpack(self, fmt, gpa):
        if fmt[0] not in "<>!=@":
            fmt = "<" + fmt
        r = self.region_of(gpa, struct.calcsize(fmt))
        return struct.unpack_from(fmt, r.map, r.offset(gpa))

    def u16(self, gpa):
        return self.unpack("H", gpa)[0]

    def set_u16(self, gpa, v):
        """One 16-bit store, as a driver publishes an index: struct.pack_into
        zero-fills its target before writing the value, and a device
        polling the field (avail idx, used_event) would see that 0."""
        r = self.region_of(gpa, 2)
        o = r.offset(gpa)
        if o % 2:
            self.pack("H", gpa, v & 0xFFFF)
            return
        mv = memoryview(r.map).cast("H")
        try:
            mv[o // 2] = v & 0xFFFF       # native order: this is little-endian x86
        finally:
            mv.release()

    # -- vhost-user -----------------------------------------------------------
    def table(self):
        """The honest SET_MEM_TABLE entries: [(gpa, size, uva, mmap_offset, fd)]."""
        return [r.entry() for r in self.regions]

    def close(self):
        """Unmap and close every region (idempotent)."""
        for r in self.regions:
            r.close()


# ---------------------------------------------------------------------------
# payloads
# ---------------------------------------------------------------------------

def pack_u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def pack_state(index, num):
    """struct vhost_vring_state: u32 index, u32 num."""
    return struct.pack("<II", index & 0xFFFFFFFF, num & 0xFFFFFFFF)


def pack_addr(index, desc, used, avail, log=0, flags=0):
    """struct vhost_vring_addr: u32 index, u32 flags, u64 desc, used,
    avail, log (all user addresses)."""
    return struct.pack("<IIQQQQ", index, flags, desc, used, avail, log)


def pack_mem_table(regions, nregions=None, full=False):
    """VhostUserMemory: u32 nregions, u32 padding, then one
    {u64 gpa, u64 size, u64 uva, u64 mmap_offset} per region.  regions
    are (gpa, size, uva, mmap_offset[, fd]) tuples or Region objects.
    Like QEMU only the used entries are sent, unless full (all 8 slots).
    nregions overrides the count written (to lie about it)."""
    ents = [r.entry() if isinstance(r, Region) else tuple(r) for r in regions]
    n = len(ents) if nregions is None else nregions
    out = struct.pack("<II", n & 0xFFFFFFFF, 0)
    for e in ents:
        out += struct.pack("<QQQQ", *[x & 0xFFFFFFFFFFFFFFFF for x in e[:4]])
    if full:
        out += bytes(32 * max(0, MAX_REGIONS - len(ents)))
    return out


def pack_log(size, offset):
    """VhostUserLog: u64 mmap_size, u64 mmap_offset."""
    return struct.pack("<QQ", size, offset)


def mac_u64(mac):
    """A MAC ("aa:bb:..." or 6 bytes) in the u64 of SEND_RARP."""
    if isinstance(mac, str):
        mac = bytes(int(x, 16) for x in mac.split(":"))
    return struct.unpack("<Q", bytes(mac) + b"\0\0")[0]


Msg = collections.namedtuple("Msg", "request flags payload")


# ---------------------------------------------------------------------------
# the socket
# ---------------------------------------------------------------------------

class Listener:
    """Server mode: listen on a unix socket path for the backend (a
    vhost-user client) to connect.  close() also removes the path."""

    def __init__(self, path):
        self.path = path
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.bind(path)
            self.sock.listen(4)
        except BaseException:
            self.sock.close()
            raise

    def accept(self, timeout=20):
        """Accept one connection (a Conn), waiting at most timeout s."""
        self.sock.settimeout(timeout)
        try:
            s, _ = self.sock.accept()
        except socket.timeout:
            raise ReplyTimeout("no backend connected to %s within %.1fs" % (self.path, timeout))
        s.setblocking(True)
        return Conn(s, self.path)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            try:
                os.unlink(self.path)
            except OSError:
                pass


class Conn:
    """One vhost-user connection, frontend side (vhost-user spec: "Message
    specification", "Communication").

    Raw level: send() / send_raw() / recv() / closed().  Typed level: one
    method per request QEMU uses for virtio-net; they track what was
    negotiated (features, protocol_features) and request REPLY_ACK acks as
    QEMU does when REPLY_ACK was negotiated (SET_MEM_TABLE; every SET_*
    message if ack_all).  A typed SET_* helper returns the ack (0 = ok)
    when one was requested, else None; ack=True/False forces the choice.
    """

    def __init__(self, sock, path=None):
        self.sock = sock
        self.path = path
        self._rx = bytearray()
        self._rx_fds = []
        self.features = None            # last SET_FEATURES value
        self.protocol_features = 0      # last SET_PROTOCOL_FEATURES value
        self.ack_all = False
        self.log = []                   # (direction, request, size) of every message

    # -- setup ----------------------------------------------------------------
    @classmethod
    def connect(cls, path, timeout=20):
        """Client mode: connect to a backend listening at path, retrying
        (ENOENT, ECONNREFUSED) until it listens or timeout expires."""
        deadline = _deadline(timeout)
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return cls(s, path)
            except (FileNotFoundError, ConnectionRefusedError) as e:
                s.close()
                if _left(deadline) <= 0:
                    raise ReplyTimeout("nobody listens on %s after %.1fs (%s)" % (path, timeout, e))
            except BaseException:
                s.close()
                raise
            time.sleep(0.02)

    @classmethod
    def serve(cls, path, timeout=20):
        """Server mode: listen on path, accept one connection, stop
        listening (the path is removed)."""
        lst = Listener(path)
        try:
            return lst.accept(timeout)
        finally:
            lst.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        return self.sock.fileno() if self.sock is not None else -1

    def close(self):
        """Close our end (the backend sees EOF).  Idempotent."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        for fd in self._rx_fds:
            _close_fd(fd)
        self._rx_fds = []

    @property
    def reply_ack(self):
        return bool(self.protocol_features & bit(PF_REPLY_ACK))

    # -- raw ------------------------------------------------------------------
    def send_raw(self, data, fds=(), timeout=10):
        """Write data (any bytes: a malformed header, a truncated or
        oversized message, several messages) with fds attached to its first
        byte via SCM_RIGHTS."""
        if self.sock is None:
            raise ConnectionClosed("connection already closed")
        data = bytes(data)
        fds = list(fds)
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        self.sock.settimeout(timeout)
        try:
            sent = self.sock.sendmsg([data], anc, socket.MSG_NOSIGNAL)
            while sent < len(data):
                sent += self.sock.send(data[sent:], socket.MSG_NOSIGNAL)
        except socket.timeout:
            raise ReplyTimeout("backend does not read: send blocked for %.1fs" % timeout)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise ConnectionClosed("backend closed the connection (%s)" % e)

    def send(self, request, payload=b"", fds=(), flags=VERSION, need_reply=False, size=None,
             timeout=10):
        """Send one message: header (request, flags, size = len(payload)
        unless size is given) then payload, fds via SCM_RIGHTS.  With
        need_reply the NEED_REPLY flag (0x8) is set and the REPLY_ACK u64
        is awaited and returned (0 = success); otherwise None.  (The spec
        allows the ack only once REPLY_ACK is negotiated; librte_vhost
        sends it whenever the flag is set.  A request with a reply of its
        own - GET_* - gets no extra ack: use call() for those.)"""
        if need_reply:
            flags |= F_NEED_REPLY
        payload = bytes(payload)
        n = len(payload) if size is None else size
        self.log.append(("tx", request, n))
        self.send_raw(HDR.pack(request, flags, n) + payload, fds, timeout)
        if need_reply:
            return self.wait_ack(request, timeout)
        return None

    def wait_ack(self, request, timeout=10):
        """Receive the REPLY_ACK of request and return its u64."""
        m = self.recv(timeout)
        self._check_reply(m, request)
        if len(m.payload) != 8:
            raise ProtocolError("ack of %s has a %d-byte payload" % (_rname(request), len(m.payload)))
        return struct.unpack("<Q", m.payload)[0]

    def _fill(self, n, deadline):
        while len(self._rx) < n:
            left = _left(deadline)
            if left <= 0:
                raise ReplyTimeout("no complete message from the backend (%d of %d bytes)"
                                   % (len(self._rx), n))
            if self.sock is None:
                raise ConnectionClosed("connection already closed")
            self.sock.settimeout(left)
            try:
                data, anc, _flags, _addr = self.sock.recvmsg(
                    65536, socket.CMSG_SPACE(MAX_FDS * array.array("i").itemsize))
            except socket.timeout:
                continue
            except ConnectionResetError as e:
                raise ConnectionClosed("connection reset (%s)" % e)
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    a = array.array("i")
                    a.frombytes(cdata[:len(cdata) - len(cdata) % a.itemsize])
                    self._rx_fds.extend(a)
            if not data:
                raise ConnectionClosed("backend closed the connection")
            self._rx += data

    def recv(self, timeout=10, keep_fds=False):
        """Receive one message from the backend: Msg(request, flags,
        payload).  Raises ConnectionClosed on EOF, ReplyTimeout when no
        whole message came before the deadline.  File descriptors the
        backend attached are closed, unless keep_fds: then (msg, fds) is
        returned and the caller owns them."""
        deadline = _deadline(timeout)
        self._fill(HDR_SIZE, deadline)
        request, flags, size = HDR.unpack_from(self._rx)
        if size > 65536:
            raise ProtocolError("backend message %d announces %d payload bytes" % (request, size))
        self._fill(HDR_SIZE + size, deadline)
        payload = bytes(self._rx[HDR_SIZE:HDR_SIZE + size])
        del self._rx[:HDR_SIZE + size]
        fds, self._rx_fds = self._rx_fds, []
        self.log.append(("rx", request, size))
        msg = Msg(request, flags, payload)
        if keep_fds:
            return msg, fds
        for fd in fds:
            _close_fd(fd)
        return msg

    def closed(self):
        """True if the backend has closed (or shut down writing on) the
        connection.  Polls without consuming a pending reply."""
        if self.sock is None:
            return True
        p = select.poll()
        p.register(self.sock.fileno(), select.POLLIN | select.POLLRDHUP)
        ev = 0
        for _fd, e in p.poll(0):
            ev |= e
        if ev & (select.POLLHUP | select.POLLRDHUP | select.POLLERR):
            return True
        if ev & select.POLLIN:
            try:
                return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
            except BlockingIOError:
                return False
            except ConnectionResetError:
                return True
        return False

    def wait_closed(self, timeout=10):
        """Wait until closed(); return True, or False at the deadline."""
        deadline = _deadline(timeout)
        while not self.closed():
            if _left(deadline) <= 0:
                return False
            time.sleep(0.01)
        return True

    # -- typed helpers ----------------------------------------------------------
    def _check_reply(self, m, request):
        if m.request != request:
            raise ProtocolError("expected reply to %s, got message %s" % (_rname(request), _rname(m.request)))
        if not m.flags & F_REPLY or (m.flags & 0x3) != VERSION:
            raise ProtocolError("reply to %s has flags %#x (want version 1 + reply bit)"
                                % (_rname(request), m.flags))

    def call(self, request, payload=b"", timeout=10):
        """Send a request that has a reply; return the reply's payload."""
        self.send(request, payload, timeout=timeout)
        m = self.recv(timeout)
        self._check_reply(m, request)
        return m.payload

    def _call_u64(self, request, payload=b"", timeout=10):
        p = self.call(request, payload, timeout)
        if len(p) != 8:
            raise ProtocolError("reply to %s: %d-byte payload, want 8" % (_rname(request), len(p)))
        return struct.unpack("<Q", p)[0]

    def _set(self, request, payload=b"", fds=(), ack=None, qemu_acks=False, timeout=10):
        if ack is None:
            ack = self.reply_ack and (self.ack_all or qemu_acks)
        return self.send(request, payload, fds, need_reply=ack, timeout=timeout)

    def get_features(self, timeout=10):
        return self._call_u64(GET_FEATURES, timeout=timeout)

    def set_features(self, features, ack=None):
        r = self._set(SET_FEATURES, pack_u64(features), ack=ack)
        self.features = features
        return r

    def set_owner(self, ack=None):
        return self._set(SET_OWNER, ack=ack)

    def reset_owner(self, ack=None):
        """RESET_OWNER; librte_vhost forgets the negotiated features and
        protocol features with it, so does this Conn."""
        r = self._set(RESET_OWNER, ack=ack)
        self.features = None
        self.protocol_features = 0
        return r

    def set_mem_table(self, regions, fds=None, ack=None, nregions=None, full=False):
        """regions: GuestMemory, Regions or (gpa, size, uva, mmap_offset,
        fd) tuples; fds default to the regions' own.  QEMU requests an ack
        for this one when REPLY_ACK is negotiated; so do we."""
        if isinstance(regions, GuestMemory):
            regions = regions.table()
        ents = [r.entry() if isinstance(r, Region) else tuple(r) for r in regions]
        if fds is None:
            fds = [e[4] for e in ents]
        return self._set(SET_MEM_TABLE, pack_mem_table(ents, nregions, full), fds, ack=ack, qemu_acks=True)

    def set_log_base(self, size, offset, fd, reply=None, timeout=10):
        """SET_LOG_BASE with the dirty-log memfd.  With LOG_SHMFD
        negotiated (or reply=True) the backend answers with an empty
        SET_LOG_BASE reply once it has mapped the log, as QEMU expects;
        that reply's payload (b"") is returned, else None."""
        self.send(SET_LOG_BASE, pack_log(size, offset), [fd], timeout=timeout)
        if reply is None:
            reply = bool(self.protocol_features & bit(PF_LOG_SHMFD))
        if not reply:
            return None
        m = self.recv(timeout)
        self._check_reply(m, SET_LOG_BASE)
        return m.payload

    def set_vring_num(self, index, num, ack=None):
        return self._set(SET_VRING_NUM, pack_state(index, num), ack=ack)

    def set_vring_addr(self, index, desc, used, avail, log=0, flags=0, ack=None):
        return self._set(SET_VRING_ADDR, pack_addr(index, desc, used, avail, log, flags), ack=ack)

    def set_vring_base(self, index, base, ack=None):
        return self._set(SET_VRING_BASE, pack_state(index, base), ack=ack)

    def get_vring_base(self, index, timeout=10):
        """GET_VRING_BASE: stops the vring (librte_vhost stops the whole
        device on the first one); returns the backend's next avail index."""
        p = self.call(GET_VRING_BASE, pack_state(index, 0), timeout)
        if len(p) != 8:
            raise ProtocolError("GET_VRING_BASE reply: %d-byte payload" % len(p))
        return struct.unpack("<II", p)[1]

    def _vring_fd(self, request, index, fd, ack):
        if fd is None:
            return self._set(request, pack_u64((index & VRING_IDX_MASK) | VRING_NOFD), ack=ack)
        return self._set(request, pack_u64(index & VRING_IDX_MASK), [fd], ack=ack)

    def set_vring_kick(self, index, fd, ack=None):
        """fd None: the NOFD bit (8) instead of a descriptor."""
        return self._vring_fd(SET_VRING_KICK, index, fd, ack)

    def set_vring_call(self, index, fd, ack=None):
        return self._vring_fd(SET_VRING_CALL, index, fd, ack)

    def set_vring_err(self, index, fd, ack=None):
        return self._vring_fd(SET_VRING_ERR, index, fd, ack)

    def get_protocol_features(self, timeout=10):
        return self._call_u64(GET_PROTOCOL_FEATURES, timeout=timeout)

    def set_protocol_features(self, features, ack=None):
        # The ack of this very message follows the new setting (the
        # backend applies it before answering).
        self.protocol_features = features
        return self._set(SET_PROTOCOL_FEATURES, pack_u64(features), ack=ack)

    def get_queue_num(self, timeout=10):
        return self._call_u64(GET_QUEUE_NUM, timeout=timeout)

    def set_vring_enable(self, index, enable, ack=None):
        return self._set(SET_VRING_ENABLE, pack_state(index, 1 if enable else 0), ack=ack)

    def send_rarp(self, mac, ack=None):
        return self._set(SEND_RARP, pack_u64(mac_u64(mac)), ack=ack)

    def net_set_mtu(self, mtu, ack=None):
        return self._set(NET_SET_MTU, pack_u64(mtu), ack=ack)

    def set_status(self, status, ack=None):
        return self._set(SET_STATUS, pack_u64(status), ack=ack)

    def get_status(self, timeout=10):
        return self._call_u64(GET_STATUS, timeout=timeout)

    def sync(self, timeout=10):
        """A round trip (GET_FEATURES): every message sent before has been
        processed by the backend when this returns.  Not something QEMU
        sends; use where a test needs a barrier."""
        return self.get_features(timeout)


def _rname(request):
    return "%s(%d)" % (REQUEST_NAMES.get(request, "?"), request)


# ---------------------------------------------------------------------------
# split ring
# ---------------------------------------------------------------------------

def need_event(event_idx, new_idx, old_idx):
    """VIRTIO 1.1 2.6.7 and 2.6.10 (vring_need_event): notify iff event_idx is in
    [old_idx, new_idx) modulo 2^16."""
    return ((new_idx - event_idx - 1) & 0xFFFF) < ((new_idx - old_idx) & 0xFFFF)


def _eventfd():
    return os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)


class SplitRing:
    """The driver side of one split virtqueue (VIRTIO 1.1 2.6), laid out in
    GuestMemory:

      desc   size x {u64 addr, u32 len, u16 flags, u16 next}, 16-aligned
             (we page-align it);
      avail  u16 flags, u16 idx, u16 ring[size], u16 used_event, 2-aligned;
      used   u16 flags, u16 idx, {u32 id, u32 len}[size], u16 avail_event,
             4-aligned (we page-align it).

    The event fields are always allocated; they mean something only when
    VIRTIO_F_EVENT_IDX is negotiated (event_idx=True).  Which descriptors
    are free, and what each outstanding chain is, is kept in Python (free
    list, chains, tokens), never in guest memory, so that what the device
    writes cannot corrupt the driver's bookkeeping: used() checks every
    used id against it.

    Driver API: post(bufs) chains descriptors and fills the next avail slot
    (not yet visible), publish() makes the posted heads visible by moving
    avail idx and says whether a kick is due, kick() writes the kick
    eventfd, used() reaps used elements and recycles their descriptors.
    Raw API for hostile tests: write_desc, write_avail_entry,
    set_avail_idx, set_avail_flags, set_used_event, and readers of the
    device's fields.  Each ring owns a kick and a call eventfd (EFD_NONBLOCK).
    """

    def __init__(self, mem, size, index=0, event_idx=False, max_indirect=16, eventfds=True):
        if size < 1 or size > 32768 or size & (size - 1):
            raise ValueError("split ring size must be a power of 2 in 1..32768, not %d" % size)
        self.mem = mem
        self.size = size
        self.index = index
        self.event_idx = event_idx
        self.max_indirect = max_indirect
        self.desc_gpa = mem.alloc(16 * size, PAGE)
        self.avail_gpa = mem.alloc(6 + 2 * size, 2)
        self.used_gpa = mem.alloc(6 + 8 * size, PAGE)
        self._ind = None
        self.kick_fd = self.call_fd = None
        if eventfds:
            self.kick_fd = _eventfd()
            self.call_fd = _eventfd()
        self.reset()

    # -- layout ---------------------------------------------------------------
    @property
    def used_event_gpa(self):
        return self.avail_gpa + 4 + 2 * self.size

    @property
    def avail_event_gpa(self):
        return self.used_gpa + 4 + 8 * self.size

    def addrs(self):
        """(desc, used, avail) as uva, the order of SET_VRING_ADDR."""
        g = self.mem.gpa_to_uva
        return g(self.desc_gpa), g(self.used_gpa), g(self.avail_gpa)

    def reset(self):
        """Zero the three tables and the driver's state (a fresh ring)."""
        self.mem.fill(self.desc_gpa, 16 * self.size)
        self.mem.fill(self.avail_gpa, 6 + 2 * self.size)
        self.mem.fill(self.used_gpa, 6 + 8 * self.size)
        self.free = collections.deque(range(self.size))
        self.chains = {}          # head -> [desc indices] of outstanding chains
        self.tokens = {}          # head -> caller's token
        self.avail_idx = 0        # last published avail idx
        self.pending = 0          # posted, not yet published
        self.last_used = 0        # driver's next used slot to read
        self.kicks = 0

    def _ind_table(self, head):
        if self._ind is None:
            self._ind = self.mem.alloc(16 * self.max_indirect * self.size, PAGE)
        return self._ind + 16 * self.max_indirect * head

    # -- driver ---------------------------------------------------------------
    def num_free(self):
        return len(self.free)

    def outstanding(self):
        return len(self.chains)

    def post(self, bufs, indirect=False, token=None):
        """Chain bufs = [(gpa, len, writable)] and put the head in the next
        avail slot (visible after publish()).  Device-writable buffers must
        follow device-readable ones (VIRTIO 1.1 2.6.5.2).  indirect: one
        ring descriptor pointing to a table of len(bufs) descriptors
        (2.6.5.3).  Returns the head index."""
        bufs = list(bufs)
        if not bufs:
            raise ValueError("post needs at least one buffer")
        need = 1 if indirect else len(bufs)
        if len(self.free) < need:
            raise RingFull("vring %d: %d free descriptors, %d needed" % (self.index, len(self.free), need))
        if self.pending >= self.size:
            raise RingFull("vring %d: %d heads pending publication" % (self.index, self.pending))
        ids = [self.free.popleft() for _ in range(need)]
        head = ids[0]
        if indirect:
            if len(bufs) > self.max_indirect:
                self.free.extendleft(reversed(ids))
                raise ValueError("%d buffers > max_indirect %d" % (len(bufs), self.max_indirect))
            table = self._ind_table(head)
            for i, (gpa, ln, w) in enumerate(bufs):
                fl = (VIRTQ_DESC_F_WRITE if w else 0) | (VIRTQ_DESC_F_NEXT if i + 1 < len(bufs) else 0)
                self.mem.pack("QIHH", table + 16 * i, gpa, ln, fl, i + 1 if i + 1 < len(bufs) else 0)
            self.write_desc(head, table, 16 * len(bufs), VIRTQ_DESC_F_INDIRECT, 0)
        else:
            for i, (gpa, ln, w) in enumerate(bufs):
                last = i + 1 == len(bufs)
                fl = (VIRTQ_DESC_F_WRITE if w else 0) | (0 if last else VIRTQ_DESC_F_NEXT)
                self.write_desc(ids[i], gpa, ln, fl, 0 if last else ids[i + 1])
        self.chains[head] = ids
        self.tokens[head] = token
        self.write_avail_entry((self.avail_idx + self.pending) % self.size, head)
        self.pending += 1
        return head

    def publish(self):
        """Make the posted heads visible (avail idx += pending, after the
        ring entries: Python stores are not reordered and x86 keeps store
        order).  Returns True if the device asked to be notified
        (VIRTIO 1.1 2.6.13.4, 2.6.10)."""
        if not self.pending:
            return False
        old = self.avail_idx
        new = (old + self.pending) & 0xFFFF
        self.set_avail_idx(new)
        self.pending = 0
        return self.kick_needed(old, new)

    def kick_needed(self, old, new):
        if self.event_idx:
            return need_event(self.read_avail_event(), new, old)
        return not self.read_used_flags() & VIRTQ_USED_F_NO_NOTIFY

    def kick(self, fd=None):
        """Notify the device: write 1 to the kick eventfd (or fd)."""
        fd = self.kick_fd if fd is None else fd
        try:
            os.write(fd, struct.pack("<Q", 1))
        except BlockingIOError:
            pass                                  # counter saturated: still signalled
        self.kicks += 1

    def publish_and_kick(self, force=False):
        if self.publish() or force:
            self.kick()
            return True
        return False

    def drain_call(self):
        """Read (and clear) our call eventfd; returns the count (0 if
        nothing was signalled or there is no eventfd of ours)."""
        if self.call_fd is None:
            return 0
        try:
            return struct.unpack("<Q", os.read(self.call_fd, 8))[0]
        except BlockingIOError:
            return 0

    def _reap(self):
        used_idx = self.read_used_idx()
        while self.last_used != used_idx:
            slot = self.last_used % self.size
            vid, ln = self.read_used_entry(slot)
            ids = self.chains.pop(vid, None)
            if ids is None:
                raise DeviceError("vring %d: used ring slot %d has id %d, which is not an outstanding head "
                                  "(outstanding: %s)" % (self.index, slot, vid, sorted(self.chains)[:16]))
            token = self.tokens.pop(vid)
            self.free.extend(ids)
            self.last_used = (self.last_used + 1) & 0xFFFF
            if self.event_idx:
                self.set_used_event(self.last_used)
            yield vid, ln, token

    def used(self):
        """Iterate the new used elements as (id, len); their descriptors go
        back to the free list.  Raises DeviceError on an id that is not an
        outstanding head."""
        for vid, ln, _tok in self._reap():
            yield vid, ln

    def reap(self):
        """All new used elements as a list of (id, len, token)."""
        return list(self._reap())

    def has_used(self):
        return self.read_used_idx() != self.last_used

    # -- raw: driver-owned fields ---------------------------------------------
    def write_desc(self, i, addr, length, flags, nxt=0):
        """Descriptor i of the table (any values: no checks)."""
        self.mem.pack("QIHH", self.desc_gpa + 16 * (i % self.size), addr & 0xFFFFFFFFFFFFFFFF,
                      length & 0xFFFFFFFF, flags & 0xFFFF, nxt & 0xFFFF)

    def read_desc(self, i):
        return self.mem.unpack("QIHH", self.desc_gpa + 16 * (i % self.size))

    def write_avail_entry(self, slot, head):
        self.mem.set_u16(self.avail_gpa + 4 + 2 * (slot % self.size), head)

    def set_avail_idx(self, v, track=True):
        """Write avail idx; track: also take it as the driver's published
        index (raw hostile writes may pass track=False)."""
        self.mem.set_u16(self.avail_gpa + 2, v)
        if track:
            self.avail_idx = v & 0xFFFF

    def read_avail_idx(self):
        return self.mem.u16(self.avail_gpa + 2)

    def set_avail_flags(self, flags):
        """VIRTQ_AVAIL_F_NO_INTERRUPT (1) asks the device not to call."""
        self.mem.set_u16(self.avail_gpa, flags)

    def set_used_event(self, v):
        self.mem.set_u16(self.used_event_gpa, v)

    # -- raw: device-owned fields ---------------------------------------------
    def read_used_flags(self):
        return self.mem.u16(self.used_gpa)

    def read_used_idx(self):
        return self.mem.u16(self.used_gpa + 2)

    def read_used_entry(self, slot):
        return self.mem.unpack("II", self.used_gpa + 4 + 8 * (slot % self.size))

    def read_avail_event(self):
        return self.mem.u16(self.avail_event_gpa)

    def close(self):
        """Close the ring's eventfds (its memory belongs to GuestMemory)."""
        _close_fd(self.kick_fd)
        _close_fd(self.call_fd)
        self.kick_fd = self.call_fd = None


# ---------------------------------------------------------------------------
# virtio-net device
# ---------------------------------------------------------------------------

DEFAULT_PROTOCOL_FEATURES = bit(PF_MQ) | bit(PF_REPLY_ACK) | bit(PF_RARP) | bit(PF_NET_MTU)


class VirtioNetDevice:
    """A VMM with one virtio-net device of one queue pair over vhost-user,
    and the guest's driver for it.

    start() speaks to the backend the way QEMU 7.2 brings up a vhost-user
    netdev (hw/virtio/vhost-user.c, vhost.c, vhost_net.c):

      GET_FEATURES
      if VHOST_USER_F_PROTOCOL_FEATURES (bit 30) is offered:
          GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES (offered & wanted)
          GET_QUEUE_NUM if PROTOCOL_F_MQ was negotiated
      SET_OWNER
      SET_FEATURES (the acked set)
      [SET_STATUS ACK|DRIVER|FEATURES_OK  - only if PROTOCOL_F_STATUS]
      SET_MEM_TABLE (need_reply when REPLY_ACK was negotiated)
      for vring 0 (guest RX) and 1 (guest TX):
          SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR, SET_VRING_KICK,
          SET_VRING_CALL
      SET_VRING_ENABLE 1 for each vring, if bit 30 was acked
      [SET_STATUS ...|DRIVER_OK           - only if PROTOCOL_F_STATUS]

    Acked features unless `features` gives the exact set: VERSION_1,
    MRG_RXBUF if mergeable, EVENT_IDX if event_idx, INDIRECT_DESC if
    indirect, plus extra_features, all masked with what the backend
    offers (as a guest can only ack offered bits), plus bit 30 when
    offered.  Protocol features: offered & protocol_features (default
    MQ, REPLY_ACK, RARP, NET_MTU; PROTOCOL_F_STATUS only if status=True,
    QEMU 7.2 does not negotiate it).

    Guest side: vring 0 receives (device-writable buffers from
    post_rx_buffers, refilled as recv() consumes them), vring 1 sends
    (virtio_net_hdr + frame from a pool of buffer slots, reclaimed from the
    used ring).  Everything is polled; recv/send wait with deadlines.
    stop() = GET_VRING_BASE on each vring (stop_vrings(): that is what
    stops the device in librte_vhost) then close the socket; start() may be
    called again for a new session (it reconnects and lays the rings out
    afresh in the same memory).  reset() = RESET_OWNER, or with
    PROTOCOL_F_STATUS stop_vrings() + SET_STATUS 0; start() then
    renegotiates on the same connection.  close() releases everything
    (socket, listener, eventfds, memory if ours) and is safe to call at any
    point, also after a failure.
    """

    def __init__(self, path, server=False, queue_size=256, mergeable=True, event_idx=False,
                 indirect=False, features=None, extra_features=0, protocol_features=None,
                 status=False, mem=None, mem_size=32 << 20, sealed=False, tag=None,
                 max_frame=9216, tx_layout="single", ack_all=False, connect_timeout=20,
                 call_fds=None, vring_base=0, mtu=None):
        self.path = path
        self.server = server
        self.queue_size = queue_size
        self.want_mergeable = mergeable
        self.want_event_idx = event_idx
        self.want_indirect = indirect
        self.explicit_features = features
        self.extra_features = extra_features
        self.want_protocol = DEFAULT_PROTOCOL_FEATURES if protocol_features is None else protocol_features
        if status:
            self.want_protocol |= bit(PF_STATUS)
        self.max_frame = max_frame
        self.tx_layout = tx_layout
        self.ack_all = ack_all
        self.connect_timeout = connect_timeout
        self.call_fds = dict(call_fds or {})    # vring -> fd to pass instead of our eventfd
        self.vring_base = vring_base
        self.mtu = mtu
        self.own_mem = mem is None
        self.mem = mem if mem is not None else GuestMemory(mem_size, sealed=sealed, tag=tag)
        self.conn = None
        self.listener = None
        self.rings = []
        self.offered = None
        self.offered_protocol = None
        self.acked = None
        self.queue_num = None
        self.status = 0
        self.hdr_len = NET_HDR_LEN
        self.started = False
        self.rx_errors = []
        self._rx_pool = []
        self._rx_partial = None
        self._rx_ready = collections.deque()
        self._tx_slots = None
        self._tx_free = None
        self.tx_sent = 0
        self.tx_completed = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<VirtioNetDevice %s%s mem=%s>" % (self.path, " (server)" if self.server else "", self.mem.tag)

    # -- negotiated -----------------------------------------------------------
    @property
    def mergeable(self):
        return bool(self.acked and self.acked & bit(F_MRG_RXBUF))

    @property
    def event_idx(self):
        return bool(self.acked and self.acked & bit(F_EVENT_IDX))

    @property
    def protocol(self):
        return self.conn.protocol_features if self.conn else 0

    @property
    def rx(self):
        return self.rings[RX_VRING]

    @property
    def tx(self):
        return self.rings[TX_VRING]

    # -- connection ---------------------------------------------------------------
    def listen(self):
        """Server mode: create the listening socket now (before the backend
        is started in client mode), so it connects at once."""
        if self.listener is None:
            self.listener = Listener(self.path)
        return self.listener

    def connect(self, timeout=None):
        timeout = self.connect_timeout if timeout is None else timeout
        if self.conn is not None:
            return self.conn
        if self.server:
            self.conn = self.listen().accept(timeout)
        else:
            self.conn = Conn.connect(self.path, timeout)
        self.conn.ack_all = self.ack_all
        return self.conn

    def features_to_ack(self, offered):
        if self.explicit_features is not None:
            return self.explicit_features
        want = bit(F_VERSION_1) | self.extra_features
        if self.want_mergeable:
            want |= bit(F_MRG_RXBUF)
        if self.want_event_idx:
            want |= bit(F_EVENT_IDX)
        if self.want_indirect:
            want |= bit(F_INDIRECT_DESC)
        return (want & offered) | (offered & bit(F_PROTOCOL_FEATURES))

    def _layout(self):
        """Lay out rings and the TX buffer pool in guest memory (afresh)."""
        for r in self.rings:
            r.close()
        self.rings = []
        self.mem.reset_alloc()
        for i in (RX_VRING, TX_VRING):
            self.rings.append(SplitRing(self.mem, self.queue_size, i, self.event_idx))
        slot = (self.hdr_len + self.max_frame + 63) & ~63
        base = self.mem.alloc(slot * self.queue_size, PAGE)
        self._tx_slots = [base + i * slot for i in range(self.queue_size)]
        self._tx_slot_size = slot
        self._tx_free = collections.deque(range(self.queue_size))
        self._rx_pool = []
        self._rx_partial = None
        self._rx_ready.clear()

    def start(self, timeout=None):
        """Connect (if not connected) and bring the device up: negotiate(),
        send_mem_table(), setup_vring() for vrings 0 and 1, enable() - the
        sequence in the class docstring.  A hostile test can call those
        steps itself and misbehave in between.  Returns self."""
        self.connect(timeout)
        self.negotiate()
        self.send_mem_table()
        for r in self.rings:
            self.setup_vring(r)
        self.enable()
        return self

    def negotiate(self):
        """GET_FEATURES, [GET/SET_PROTOCOL_FEATURES, GET_QUEUE_NUM],
        SET_OWNER, SET_FEATURES [, SET_STATUS up to FEATURES_OK]
        [, NET_SET_MTU].  Returns the acked features."""
        c = self.conn
        self.offered = c.get_features()
        if self.offered & bit(F_PROTOCOL_FEATURES):
            self.offered_protocol = c.get_protocol_features()
            c.set_protocol_features(self.offered_protocol & self.want_protocol)
            if c.protocol_features & bit(PF_MQ):
                self.queue_num = c.get_queue_num()
        c.set_owner()
        self.acked = self.features_to_ack(self.offered)
        c.set_features(self.acked)
        with_nb = self.acked & (bit(F_VERSION_1) | bit(F_MRG_RXBUF))
        self.hdr_len = NET_HDR_LEN if with_nb else NET_HDR_LEN_LEGACY
        if c.protocol_features & bit(PF_STATUS):
            self.status = S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK
            c.set_status(self.status)
        if self.mtu is not None and c.protocol_features & bit(PF_NET_MTU):
            c.net_set_mtu(self.mtu)
        return self.acked

    def send_mem_table(self):
        """Lay the rings and the TX pool out afresh (they depend on the
        negotiated EVENT_IDX and header length) and send SET_MEM_TABLE."""
        self._layout()
        ack = self.conn.set_mem_table(self.mem)
        if ack:
            raise ProtocolError("%s: backend refused SET_MEM_TABLE (ack %d)" % (self.path, ack))

    def setup_vring(self, r):
        """SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR, SET_VRING_KICK,
        SET_VRING_CALL for ring r (call fd: call_fds[index] if given)."""
        c = self.conn
        c.set_vring_num(r.index, r.size)
        c.set_vring_base(r.index, self.vring_base)
        if self.vring_base:
            # resume at vring_base: the rings look as if that many chains
            # had gone through them
            r.last_used = self.vring_base & 0xFFFF
            r.set_avail_idx(r.last_used)
            self.mem.set_u16(r.used_gpa + 2, r.last_used)
        desc, used, avail = r.addrs()
        c.set_vring_addr(r.index, desc, used, avail)
        c.set_vring_kick(r.index, r.kick_fd)
        c.set_vring_call(r.index, self.call_fds.get(r.index, r.call_fd))

    def enable(self):
        """SET_VRING_ENABLE 1 on each vring (if bit 30 was acked) [, SET_STATUS
        with DRIVER_OK]."""
        c = self.conn
        if self.acked & bit(F_PROTOCOL_FEATURES):
            for r in self.rings:
                c.set_vring_enable(r.index, True)
        if c.protocol_features & bit(PF_STATUS):
            self.status |= S_DRIVER_OK
            c.set_status(self.status)
        self.started = True

    def stop_vrings(self, timeout=10):
        """GET_VRING_BASE on each vring (what QEMU sends when it stops the
        device; librte_vhost stops the device on the first one and closes
        the vring's kick and call fds).  The connection stays.  Returns
        {vring: base}."""
        bases = {}
        if self.conn is not None and self.started:
            self.started = False
            for r in self.rings:
                bases[r.index] = self.conn.get_vring_base(r.index, timeout)
        return bases

    def stop(self, timeout=10):
        """stop_vrings(), then close the socket.  Returns {vring: base}.
        Memory and eventfds stay ours until close() (or are reused by the
        next start(), which reconnects)."""
        try:
            return self.stop_vrings(timeout)
        finally:
            self.started = False
            if self.conn is not None:
                self.conn.close()
                self.conn = None

    def reset(self, stop_first=None):
        """Device reset: SET_STATUS 0 when PROTOCOL_F_STATUS was negotiated,
        else RESET_OWNER.  The connection stays; start() renegotiates on it.

        stop_first (default: only with PROTOCOL_F_STATUS) sends
        GET_VRING_BASE on each vring before: librte_vhost 22.11 only
        records a SET_STATUS 0, it does not stop a running device, whereas
        RESET_OWNER destroys it by itself."""
        if self.conn is None:
            raise VhostUserError("not connected")
        status = bool(self.conn.protocol_features & bit(PF_STATUS))
        if stop_first if stop_first is not None else status:
            self.stop_vrings()
        if status:
            self.status = 0
            self.conn.set_status(0)
        else:
            self.conn.reset_owner()
        self.started = False

    def close(self):
        """Release everything we hold: socket, listener, eventfds, memory
        (if ours).  No messages are sent.  Idempotent."""
        self.started = False
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        for r in self.rings:
            r.close()
        self.rings = []
        if self.own_mem and self.mem is not None:
            self.mem.close()

    # -- guest RX (vring 0) ------------------------------------------------------
    def post_rx_buffers(self, n, size=2048, chain=1, kick=True):
        """Allocate n receive buffers of size bytes (each as a chain of
        `chain` device-writable descriptors) and post them.  They are
        re-posted as recv() consumes them.  Returns the number posted."""
        if n > self.rx.num_free() // chain:
            raise RingFull("RX vring: room for %d chains of %d, asked %d"
                           % (self.rx.num_free() // chain, chain, n))
        for _ in range(n):
            gpa = self.mem.alloc(size, 64)
            seg = size // chain
            segs = [(gpa + i * seg, seg if i + 1 < chain else size - seg * (chain - 1)) for i in range(chain)]
            self._rx_pool.append(segs)
            self._post_rx(segs)
        if kick:
            self.rx.publish_and_kick()
        return n

    def _post_rx(self, segs):
        self.rx.post([(g, ln, True) for g, ln in segs], token=segs)

    def _read_chain(self, segs, n):
        out = bytearray()
        for g, ln in segs:
            if n <= 0:
                break
            k = min(ln, n)
            out += self.mem.read(g, k)
            n -= k
        return bytes(out)

    def _rx_poll(self, refill=True):
        got = 0
        for _vid, ln, segs in self.rx.reap():
            cap = sum(s for _g, s in segs)
            if ln > cap:
                self.rx_errors.append("used len %d > buffer %d" % (ln, cap))
                ln = cap
            data = self._read_chain(segs, ln)
            if refill:
                self._post_rx(segs)
            got += 1
            if self._rx_partial is None:
                if ln < self.hdr_len:
                    self.rx_errors.append("used len %d < header %d" % (ln, self.hdr_len))
                    continue
                hdr, body = data[:self.hdr_len], data[self.hdr_len:]
                nb = struct.unpack_from("<H", hdr, 10)[0] if self.mergeable else 1
                if nb == 0:
                    self.rx_errors.append("num_buffers 0")
                    nb = 1
                if nb == 1:
                    self._rx_ready.append((hdr, body))
                else:
                    self._rx_partial = [hdr, bytearray(body), nb - 1]
            else:
                self._rx_partial[1] += data
                self._rx_partial[2] -= 1
                if self._rx_partial[2] == 0:
                    self._rx_ready.append((self._rx_partial[0], bytes(self._rx_partial[1])))
                    self._rx_partial = None
        if got and refill:
            self.rx.publish_and_kick()
        return got

    def recv_packets(self, timeout=1.0, count=None, refill=True):
        """Like recv(), but returns [(virtio_net_hdr bytes, frame)]."""
        deadline = _deadline(timeout)
        while True:
            self.rx.drain_call()
            self._rx_poll(refill)
            have = len(self._rx_ready)
            if (have >= count) if count is not None else have > 0:
                break
            left = _left(deadline)
            if left <= 0:
                break
            self._wait_call(self.rx, min(left, 0.01))
        n = len(self._rx_ready) if count is None else min(count, len(self._rx_ready))
        return [self._rx_ready.popleft() for _ in range(n)]

    def recv(self, timeout=1.0, count=None, refill=True):
        """Frames received (headers stripped; mergeable frames joined over
        num_buffers buffers).  count None: wait until at least one arrived
        or timeout, return all there are; count n: wait until n arrived or
        timeout, return at most n (fewer at the deadline: compare)."""
        return [f for _h, f in self.recv_packets(timeout, count, refill)]

    def _wait_call(self, ring, t):
        fd = self.call_fds.get(ring.index, ring.call_fd)
        if fd is None or ring.index in self.call_fds:
            time.sleep(min(t, 0.002))
            return
        p = select.poll()
        p.register(fd, select.POLLIN)
        p.poll(max(1, int(t * 1000)))

    # -- guest TX (vring 1) ------------------------------------------------------
    def tx_reclaim(self):
        """Take back the TX buffers the device has used; returns how many."""
        n = 0
        self.tx.drain_call()
        for _vid, _ln, slot in self.tx.reap():
            self._tx_free.append(slot)
            n += 1
        self.tx_completed += n
        return n

    def _tx_need(self, layout):
        return {"single": 1, "split": 2, "indirect": 1}[layout]

    def _post_tx(self, frame, hdr, layout):
        if len(frame) > self.max_frame:
            raise ValueError("frame of %d bytes > max_frame %d" % (len(frame), self.max_frame))
        if hdr is None:
            hdr = bytes(self.hdr_len)
        slot = self._tx_free.popleft()
        gpa = self._tx_slots[slot]
        self.mem.write(gpa, bytes(hdr) + bytes(frame))
        h = len(hdr)
        if layout == "single":
            bufs, ind = [(gpa, h + len(frame), False)], False
        elif layout in ("split", "indirect"):
            bufs, ind = [(gpa, h, False), (gpa + h, len(frame), False)], layout == "indirect"
        else:
            raise ValueError("tx layout %r: single, split or indirect" % layout)
        self.tx.post(bufs, indirect=ind, token=slot)

    def send_burst(self, frames, hdr=None, layout=None, timeout=10):
        """Queue frames on vring 1 (each with a virtio_net_hdr: hdr bytes
        or zeros), publish and kick as the device asks; when the ring is
        full, reclaim used buffers until there is room or the deadline
        passes (RingFull)."""
        layout = layout or self.tx_layout
        deadline = _deadline(timeout)
        need = self._tx_need(layout)
        posted = 0
        for f in frames:
            while self.tx.num_free() < need or not self._tx_free:
                if posted:
                    self.tx.publish_and_kick()
                    posted = 0
                if self.tx_reclaim():
                    continue
                left = _left(deadline)
                if left <= 0:
                    raise RingFull("%s: TX ring still full after %.1fs (%d outstanding, used idx %d)" % (
                        self.path, timeout, self.tx.outstanding(), self.tx.read_used_idx()))
                self._wait_call(self.tx, min(left, 0.01))
            self._post_tx(f, hdr, layout)
            posted += 1
            self.tx_sent += 1
        self.tx.publish_and_kick()
        self.tx_reclaim()

    def send(self, frame, hdr=None, layout=None, timeout=10):
        """Send one frame (see send_burst)."""
        self.send_burst([frame], hdr, layout, timeout)

    def wait_tx_done(self, timeout=10):
        """Wait until the device has used every TX buffer posted."""
        deadline = _deadline(timeout)
        while self.tx.outstanding():
            self.tx_reclaim()
            if not self.tx.outstanding():
                break
            left = _left(deadline)
            if left <= 0:
                return False
            self._wait_call(self.tx, min(left, 0.01))
        return True


# ---------------------------------------------------------------------------
# resource probes of another process
# ---------------------------------------------------------------------------

def unix_socket_inodes(path_suffix):
    """Inodes of the unix sockets (listening, and every connection accepted
    on it) bound to a path ending in path_suffix, from /proc/net/unix."""
    out = set()
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            cols = line.split()
            if len(cols) >= 8 and cols[7].endswith(path_suffix):
                out.add(int(cols[6]))
    return out


def proc_fds(pid, skip_sockets=None):
    """Number of open file descriptors of pid. skip_sockets: a path suffix;
    unix sockets bound to such a path are not counted (e.g.
    "dpdk_telemetry.v2": the connection of a telemetry query just made is
    closed by the process's telemetry thread a moment after the client
    closed its end, so counting it would race with that thread)."""
    if skip_sockets is None:
        return len(os.listdir("/proc/%d/fd" % pid))
    skip = {"socket:[%d]" % i for i in unix_socket_inodes(skip_sockets)}
    return sum(1 for t in proc_fd_targets(pid).values() if t not in skip)


def proc_fd_targets(pid):
    """{fd: readlink target} of pid (fds closed while listing are skipped)."""
    out = {}
    base = "/proc/%d/fd" % pid
    for name in os.listdir(base):
        try:
            out[int(name)] = os.readlink(os.path.join(base, name))
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise
    return out


def _is_ours(path, name_prefix):
    if name_prefix.startswith("/"):
        name_prefix = name_prefix[1:]
    if name_prefix.startswith("memfd:"):
        name_prefix = name_prefix[len("memfd:"):]
    return path.startswith("/memfd:" + name_prefix)


def proc_guest_maps(pid, name_prefix="vdp-guest-"):
    """Lines of /proc/pid/maps that map one of our memfds whose name starts
    with name_prefix (GuestMemory.memfd_prefix: exactly that memory's
    regions; a leading "memfd:" is accepted too)."""
    out = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and _is_ours(parts[5].strip(), name_prefix):
                out.append(line.rstrip("\n"))
    return out


def proc_guest_fds(pid, name_prefix="vdp-guest-"):
    """Open fds of pid that refer to one of our memfds (name_prefix)."""
    return sorted(fd for fd, t in proc_fd_targets(pid).items() if _is_ours(t, name_prefix))


def proc_rss_kb(pid):
    """Resident set size of pid in KiB (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
