# SPDX-License-Identifier: BSD-3-Clause
"""What every cell of perf/run-e2e.py runs with (backends, devargs, EAL
arguments, lcores, limits), its error and its log line."""

# vdevpeer: net_vdevpeer as it ships (zerocopy=auto); vdevpeer-copy: with
# zerocopy=off, the copy-only data path. Both offer IN_ORDER, and both
# move guest-to-guest frames by the direct path (rte_pmd_vdevpeer_peer_forward);
# vdevpeer-ethdev: as shipped with --no-peer-path (rx_burst + tx_burst).
# vhost-testpmd: net_vhost in stock dpdk-testpmd (io forwarding,
# --record-core-cycles), the anchor in its leanest loop; only for the
# testpmd-guest workloads (loop, oneway).
BACKENDS = ("vdevpeer", "vdevpeer-copy", "vhost", "vhost-testpmd", "vdevpeer-poll",
            "vdevpeer-interrupt", "vdevpeer-ethdev")
# what a run without --backends compares
DEFAULT_BACKENDS = ("vdevpeer", "vdevpeer-copy", "vhost")
VDEVPEER_DEVARGS = {"vdevpeer": "", "vdevpeer-copy": ",zerocopy=off",
                    "vdevpeer-poll": "", "vdevpeer-interrupt": "", "vdevpeer-ethdev": ""}
# The app as shipped runs --rx-mode adaptive (workers sleep when idle);
# vdevpeer-poll / -interrupt: net_vdevpeer as shipped, the workers in that
# --rx-mode instead. net_vhost has no rx interrupts here: its worker polls
# whatever the mode (the app says so once).
APP_EXTRA_ARGS = {"vdevpeer-poll": ["--rx-mode", "poll"],
                  "vdevpeer-interrupt": ["--rx-mode", "interrupt"],
                  "vdevpeer-ethdev": ["--no-peer-path"]}
# Guest devargs, the same for every backend. These are virtio_user's own
# defaults, spelt out: IN_ORDER and MRG_RXBUF are negotiated when the
# backend offers them, and every backend offers both.
GUEST_DEVARGS = "queues=1,mrg_rxbuf=1,in_order=1,packed_vq=0,queue_size=1024"
# Ring layouts of the guest (--rings): devargs replacing packed_vq=0, and
# EAL arguments of the generator. packed-vec: DPDK's AVX-512 packed-ring
# path (virtio_user vectorized=1, needs --force-max-simd-bitwidth=512 and
# in_order; its Rx path also needs no mrg_rxbuf: with it virtio_user logs
# "disabled packed ring vectorized rx for mrg_rxbuf enabled" and takes
# its vectorised Tx path only, checked 2026-12-04 with
# --log-level 'pmd.net.virtio.*:debug'), so that guest asks for
# mrg_rxbuf=0 (RING_DEVARGS_SWAP) and runs vectorised both ways.
RINGS = {
    "split": ("packed_vq=0", []),
    "packed": ("packed_vq=1", []),
    "packed-vec": ("packed_vq=1,vectorized=1", ["--force-max-simd-bitwidth=512"]),
}
# Further guest devargs a ring layout changes: (from, to) pairs.
RING_DEVARGS_SWAP = {
    "packed-vec": (("mrg_rxbuf=1", "mrg_rxbuf=0"),),
}


def guest_devargs(ring, queues=1):
    """The guest's virtio_user devargs for a ring layout of RINGS (its EAL
    arguments: RINGS[ring][1]); used by run-e2e.py and profile-e2e.sh."""
    d = GUEST_DEVARGS.replace("packed_vq=0", RINGS[ring][0]).replace(
        "queues=1", "queues=%d" % queues)
    for old, new in RING_DEVARGS_SWAP.get(ring, ()):
        d = d.replace(old, new)
    return d

VHOST_TSO_DEVARGS = ",tso=1"
APP_LCORES = "0,1"          # main lcore 0 (sleeps), worker lcore 1 on CPU 1
GUEST_LCORES = "0@0"        # the generator's only lcore, on CPU 0
EAL_COMMON = ["--no-pci", "--no-huge", "-m", "1024", "--log-level", "lib.eal:notice"]
# --huge: every DPDK process's memory (-m 1024: 512 pages) in 2 MB pages of
# the runner's own hugetlbfs mount; at most two processes at a time
HUGE_PAGES = 2 * 512 + 64
STOP_TIMEOUT = 10.0
# Other processes may use this much of a CPU (percent, summed) before a
# run counts as disturbed.
QUIET_LIMIT_PCT = 10.0


def log(msg):
    print(msg, flush=True)


def eal_common(huge_dir=None):
    """EAL_COMMON, or with huge_dir (a hugetlbfs mount) the same memory in
    its 2 MB pages: one file per process (virtio_user sends the backend one
    fd per file, and at most 8; EAL leaves the file at exit: run-e2e.py
    removes it; so does profile-e2e.sh)."""
    if huge_dir is None:
        return list(EAL_COMMON)
    out = []
    for a in EAL_COMMON:
        out += (["--huge-dir", huge_dir, "--single-file-segments"]
                if a == "--no-huge" else [a])
    return out


class RunError(Exception):
    """A run (one cell of one backend) failed; the runner goes on with the
    next one."""

# Workloads (--workloads), each a set of cells:
#   gen     vdp-guestgen: one lcore sends on guest port A, receives on B
#   loop    a stock testpmd guest with two virtio_user ports in io mode,
#           `start tx_first 32`: ~2048 frames circulate through the
#           backend in both directions (A -> B -> guest -> B -> A ...)
#   oneway  a stock testpmd guest in txonly mode on A; the backend
#           forwards A to a net_null port (guest to host, one way)
WORKLOADS = ("gen", "loop", "oneway")
# The guest testpmd's lcores: main and forwarding lcore both on CPU 0 (the
# main lcore sleeps on its console).
GUEST_TESTPMD_LCORES = "0@0,1@0"
