# SPDX-License-Identifier: BSD-3-Clause
"""Process harness for the end-to-end tests.

Everything a test starts goes through a ProcGroup: each process gets its own
DPDK --file-prefix, its output goes to a log file in the test's tmp dir, and
the group's cleanup stops exactly the processes it started (by PID: SIGINT,
then SIGKILL after a timeout) and removes their sockets and
DPDK runtime dirs (tests/pylib/dpdk_runtime.py), whether the test passed or not.
Proc and wait_until are tests/pylib/proc.py's (shared with perf/run-e2e.py),
raising ProcError here.

Synchronisation is always by polling a condition with a deadline
(wait_until): a socket that listens, a line in a log, a counter.  Never a
bare sleep.

The topology pieces used by the tests are here too:
  - Guest: Debian's stock dpdk-testpmd with a virtio_user port (the guest side
    of a vhost-user link) and optionally a net_pcap port to send a pcap file
    or record what arrives;
  - Middle: the box under test between two or more guests - our dpdk-vdevpeer
    app ("vdevpeer"), stock testpmd with our PMD loaded as a plugin
    ("plugin"), or stock testpmd with DPDK's own net_vhost ("vhost", the
    reference the harness was developed against).
"""

import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD = os.environ.get("VDP_BUILD_DIR", os.path.join(REPO, "build"))
APP = os.path.join(BUILD, "app", "dpdk-vdevpeer")
PMD_SO = os.path.join(BUILD, "drivers", "net", "vdevpeer", "librte_net_vdevpeer.so")
TESTPMD = os.environ.get("VDP_TESTPMD", shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd")
# the process wrapper, wait helper, DPDK runtime-directory rule and
# telemetry client shared with perf/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pylib"))
import dpdk_runtime  # noqa: E402
import proc  # noqa: E402

# EAL arguments every process of ours gets: no hugepages (memfd-backed
# memory works for vhost-user), and never touch the machine's PCI devices.
EAL_COMMON = ["--no-huge", "--no-pci"]

# CPU placement (2 CPUs): the middle box runs -l 0,1 and busy-polls CPU 1;
# guests keep their main lcore and forwarding lcore on CPU 0.
MIDDLE_LCORES = ["-l", "0,1"]
GUEST_LCORES = ["--lcores", "0@0,1@0"]

VHOST_READY = "virtio is now ready for processing"


class ProcError(AssertionError):
    """A process died, or a condition was not met in time."""


def wait_until(cond, timeout, what, interval=0.05, fail_if=None):
    """Poll cond() until it returns a true value; return that value.

    fail_if, if given, is polled too: when it returns a true value (a
    message), give up at once (e.g. the process we wait on has died).
    Raises ProcError (tests/pylib/proc.py's wait_until).
    """
    return proc.wait_until(cond, timeout, what, interval, fail_if, error=ProcError)


def unix_listening(path):
    """True if some process listens on the unix socket at path.

    Read from /proc/net/unix (flag __SO_ACCEPTCON, 0x10000), so that
    checking does not itself open a vhost-user connection.
    """
    try:
        with open("/proc/net/unix") as f:
            next(f)
            for line in f:
                parts = line.split()
                if len(parts) >= 8 and parts[7] == path and int(parts[3], 16) & 0x10000:
                    return True
    except OSError:
        pass
    return False


def unix_connections(path):
    """Number of connected sockets bound to path (accepted connections of a
    listener show the listener's path in /proc/net/unix, state 03)."""
    n = 0
    try:
        with open("/proc/net/unix") as f:
            next(f)
            for line in f:
                parts = line.split()
                if len(parts) >= 8 and parts[7] == path and parts[5] == "03":
                    n += 1
    except OSError:
        pass
    return n


def make_stale_socket(path):
    """Leave a unix socket file at path that nobody listens on (as a killed
    server would)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()


def telemetry(prefix, cmd, timeout=5):
    """One DPDK telemetry (v2 socket) query to the process with --file-prefix
    prefix; returns the decoded JSON value of cmd (tests/pylib)."""
    return dpdk_runtime.telemetry(prefix, cmd, timeout)


def mempools(prefix):
    """{name: info} of every mempool of the process, from telemetry.
    info["in_use"] = size - common_pool_count: mbufs in use, plus those
    parked in per-lcore caches (at most ~1.5 x cache_size per lcore)."""
    out = {}
    for name in telemetry(prefix, "/mempool/list") or []:
        info = telemetry(prefix, "/mempool/info,%s" % name)
        info["in_use"] = info["size"] - info["common_pool_count"]
        out[name] = info
    return out


class Proc(proc.Proc):
    """One process we started, with its output in a log file
    (tests/pylib/proc.py); its waits raise ProcError.

    stop() escalates from the first signal straight to SIGKILL: a test that
    asserts stop() == 0 asserts that the process exited on that signal, and
    a SIGTERM in between would hide one that ignored SIGINT.
    """

    escalation = ((signal.SIGKILL, 10.0),)
    error = ProcError


class ProcGroup:
    """The processes, DPDK file prefixes and sockets of one test."""

    def __init__(self, tmpdir, testname, sockdir=None):
        # Logs and pcaps go to tmpdir (pytest keeps it for inspection);
        # sockets go to a short private dir (a unix socket path must stay
        # under 108 bytes) that cleanup removes.
        self.tmpdir = str(tmpdir)
        self.sockdir = sockdir or tempfile.mkdtemp(prefix="vdp-")
        self.tag = re.sub(r"[^A-Za-z0-9]+", "-", testname).strip("-")[:40]
        self.procs = []
        self.prefixes = []
        self.paths = [self.sockdir]
        self._n = 0

    def new_prefix(self, role):
        self._n += 1
        p = "vdp-%s-%s-%d-%d" % (self.tag, role, os.getpid(), self._n)
        self.prefixes.append(p)
        return p

    def sock(self, name):
        """A socket path in the private socket dir."""
        return os.path.join(self.sockdir, name)

    def file(self, name):
        """A file in the test's tmp dir (kept after the test)."""
        return os.path.join(self.tmpdir, name)

    def start(self, name, argv, prefix=None, **kw):
        self._n += 1
        log = os.path.join(self.tmpdir, "%02d-%s.log" % (self._n, name))
        p = Proc(name, argv, log, prefix=prefix, **kw)
        self.procs.append(p)
        return p

    def cleanup(self, timeout=10):
        errors = []
        # Stop everything first (SIGINT to all, then wait), so that guests and
        # middle boxes do not wait on each other one by one.
        for p in self.procs:
            p.send(signal.SIGINT)
        deadline = time.monotonic() + timeout
        for p in self.procs:
            ignored = len(p.ignored)
            p.stop(None, max(0.1, deadline - time.monotonic()))
            if len(p.ignored) > ignored:
                errors.append("%s (pid %d) ignored SIGINT, killed" % (p.name, p.pid))
        for pfx in self.prefixes:
            dpdk_runtime.remove_runtime_dir(pfx)
        # ring state a killed middle left for its next incarnation
        dpdk_runtime.remove_state_files(self.sockdir)
        for path in self.paths:
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                errors.append("cannot remove %s: %s" % (path, e))
        return errors

    def report(self):
        """(title, text) sections for a failed test's report."""
        out = []
        for p in self.procs:
            state = "running" if p.alive() else "exit %s" % p.returncode
            out.append(("%s pid %d (%s) %s" % (p.name, p.pid, state, p.log_path), p.excerpt()))
        return out


# ---------------------------------------------------------------------------
# testpmd output
# ---------------------------------------------------------------------------

_NIC_BLOCK = re.compile(r"NIC statistics for port (\d+)\s*#+(.*?)(?=#{20,}\s*$)", re.S | re.M)
_FWD_BLOCK = re.compile(r"Forward statistics for port (\d+)\s*-+(.*?)-{20,}", re.S)
_KV = re.compile(r"([A-Za-z][A-Za-z-]*):\s+(\d+)")


def _blocks(rx, text):
    last = {}
    for m in rx.finditer(text):
        last[int(m.group(1))] = {k: int(v) for k, v in _KV.findall(m.group(2))}
    return last


def testpmd_nic_stats(text):
    """Latest 'NIC statistics for port N' block of each port (printed by
    --stats-period and by 'show port stats'): {port: {"RX-packets": n, ...}}."""
    return _blocks(_NIC_BLOCK, text)


def testpmd_fwd_stats(text):
    """'Forward statistics for port N' blocks (printed when forwarding
    stops): {port: {"RX-packets": n, "RX-dropped": n, "TX-dropped": n, ...}}."""
    return _blocks(_FWD_BLOCK, text)


# ---------------------------------------------------------------------------
# guests
# ---------------------------------------------------------------------------

class Guest:
    """A guest played by stock dpdk-testpmd with a virtio_user port.

    Port layout (vdevs are probed in command-line order):
      sender   (rx_pcap):  port 0 = net_pcap (reads the file once), port 1 = virtio_user
      receiver (tx_pcap):  port 0 = virtio_user, port 1 = net_pcap (writes the file)
      plain:               port 0 = virtio_user only (rxonly unless fwd given)
    io forwarding pairs port 0 with port 1.
    """

    def __init__(self, group, name, sock, rx_pcap=None, tx_pcap=None, server=False,
                 mrg_rxbuf=None, in_order=None, queue_size=1024, mbuf_size=None,
                 max_pkt_len=None, fwd=None, extra_virtio=None, extra_args=None,
                 mac=None, queues=1):
        self.group = group
        self.name = name
        self.sock = sock
        self.rx_pcap = rx_pcap
        self.tx_pcap = tx_pcap
        self.server = server
        self.proc = None
        dev = ["net_virtio_user0", "path=" + sock, "queues=%d" % queues,
               "queue_size=%d" % queue_size]
        if server:
            dev.append("server=1")
        if mrg_rxbuf is not None:
            dev.append("mrg_rxbuf=%d" % int(mrg_rxbuf))
        if in_order is not None:
            dev.append("in_order=%d" % int(in_order))
        if mac:
            dev.append("mac=" + mac)
        dev += list(extra_virtio or [])
        self.virtio_dev = ",".join(dev)
        vdevs = []
        if rx_pcap:
            vdevs += ["--vdev", "net_pcap0,rx_pcap=" + rx_pcap, "--vdev", self.virtio_dev]
            self.virtio_port, self.pcap_port = 1, 0
        elif tx_pcap:
            vdevs += ["--vdev", self.virtio_dev, "--vdev", "net_pcap0,tx_pcap=" + tx_pcap]
            self.virtio_port, self.pcap_port = 0, 1
        else:
            vdevs += ["--vdev", self.virtio_dev]
            self.virtio_port, self.pcap_port = 0, None
        self.vdevs = vdevs
        if fwd is None:
            fwd = "io" if (rx_pcap or tx_pcap) else "rxonly"
        app = ["--forward-mode=" + fwd, "--stats-period", "1", "--total-num-mbufs=8192"]
        if rx_pcap:
            # testpmd empties RX queues before it starts forwarding: that would
            # eat the pcap file.
            app.append("--no-flush-rx")
        if mbuf_size:
            app.append("--mbuf-size=%d" % mbuf_size)
        if max_pkt_len:
            app.append("--max-pkt-len=%d" % max_pkt_len)
        app += list(extra_args or [])
        self.app_args = app

    def argv(self, prefix):
        return ([TESTPMD] + EAL_COMMON + ["-m", "256", "--file-prefix", prefix] + GUEST_LCORES
                + self.vdevs + ["--"] + self.app_args)

    def start(self):
        """Start testpmd.  A client-mode guest connects during probe, so the
        middle must listen already; a server-mode guest (server=1) listens and
        waits for the middle to connect."""
        assert self.proc is None or not self.proc.alive()
        prefix = self.group.new_prefix(self.name)
        self.proc = self.group.start(self.name, self.argv(prefix), prefix=prefix)
        if self.server:
            wait_until(lambda: unix_listening(self.sock), 20,
                       "guest %s listening on %s" % (self.name, self.sock),
                       fail_if=self.proc.died_msg)
        return self

    def wait_forwarding(self, timeout=30):
        self.proc.wait_log(r"start packet forwarding", timeout)

    def nic(self, port):
        return testpmd_nic_stats(self.proc.log()).get(port, {})

    def wait_counter(self, port, key, value, timeout=30):
        """Wait until the periodic stats show port's counter >= value."""
        return wait_until(lambda: self.nic(port).get(key, 0) >= value, timeout,
                          "%s port %d %s >= %d (now %s)" % (self.name, port, key, value,
                                                            self.nic(port).get(key)),
                          fail_if=self.proc.died_msg)

    def stop(self, sig=signal.SIGINT, timeout=15):
        rc = self.proc.stop(sig, timeout)
        return rc

    def kill(self):
        return self.proc.kill()

    def fwd(self):
        return testpmd_fwd_stats(self.proc.log())


# ---------------------------------------------------------------------------
# middle boxes
# ---------------------------------------------------------------------------

class PortSpec:
    """One vhost-user port of the middle box.  server=True: the middle box
    listens on sock; False: it connects to a guest that listens."""

    def __init__(self, sock, server=True, devargs=None):
        self.sock = sock
        self.server = server
        self.devargs = dict(devargs or {})


class Middle:
    """The box between the guests."""

    kind = None

    def __init__(self, group, ports, app_args=None, eal_args=None, stdin="devnull"):
        self.group = group
        self.ports = ports
        self.app_args = list(app_args or [])
        self.eal_args = list(eal_args or [])
        self.stdin = stdin
        self.proc = None
        self.restarts = 0

    def vdevs(self):
        raise NotImplementedError

    def argv(self, prefix):
        raise NotImplementedError

    def start(self, wait_listen=True):
        assert self.proc is None or not self.proc.alive()
        prefix = self.group.new_prefix("mid")
        name = "middle-%s" % self.kind + ("-%d" % self.restarts if self.restarts else "")
        self.restarts += 1
        self.proc = self.group.start(name, self.argv(prefix), prefix=prefix, stdin=self.stdin)
        if wait_listen:
            for p in self.ports:
                if p.server:
                    wait_until(lambda: unix_listening(p.sock), 20,
                               "%s listening on %s" % (self.kind, p.sock),
                               fail_if=self.proc.died_msg)
        return self

    def _ready_rx(self, sock):
        return r"\(%s\) %s" % (re.escape(sock), re.escape(VHOST_READY))

    def ready_count(self, sock):
        """How often the vhost-user device on sock became ready since this
        process started (librte_vhost logs '(<path>) virtio is now ready
        for processing.' for every backend built on it)."""
        return self.proc.count(self._ready_rx(sock))

    def wait_ready(self, sock, n=1, timeout=30):
        """Wait until the device on sock has become ready n times (and, on
        our PMD, until it runs: librte_vhost logs 'ready' before it calls
        the driver's new_device, where net_vdevpeer maps the guest's memory
        and lets its queues run - on a loaded machine that can be tens of
        milliseconds later, and frames sent meanwhile are dropped)."""
        self.proc.wait_log(self._ready_rx(sock), timeout, count=n,
                           what="%s: device on %s ready (x%d)" % (self.kind, sock, n))
        if self.pmd:
            self.wait_running(sock, timeout)

    # net_vdevpeer ports: readiness from its telemetry
    pmd = False

    def pmd_port(self, sock):
        """The ethdev port id of our PMD's port on sock (telemetry)."""
        for port in telemetry(self.proc.prefix, "/ethdev/list") or []:
            info = telemetry(self.proc.prefix, "/vdevpeer/peer,%d" % port)
            if info and info.get("socket") == sock:
                return port
        raise AssertionError("%s: no net_vdevpeer port on %s" % (self.kind, sock))

    def wait_running(self, sock, timeout=30):
        """Wait until the PMD's port on sock has a running device (its
        new_device done), or has refused it (failed, or disconnected)."""
        port = self.pmd_port(sock)

        def settled():
            info = telemetry(self.proc.prefix, "/vdevpeer/peer,%d" % port) or {}
            return (info.get("running") == 1 or info.get("failed") == 1 or
                    info.get("connected") == 0)
        wait_until(settled, timeout, "%s: device on %s running in the PMD" % (self.kind, sock),
                   fail_if=self.proc.died_msg)

    def stop(self, sig=signal.SIGINT, timeout=15):
        return self.proc.stop(sig, timeout)

    def kill(self):
        return self.proc.kill()

    def final_stats(self):
        """{port: {"rx": packets, "tx": packets}} as printed at exit."""
        return {p: {"rx": st.get("RX-packets", 0), "tx": st.get("TX-packets", 0)}
                for p, st in testpmd_fwd_stats(self.proc.log()).items()}

    def restart(self):
        self.stop()
        return self.start()


class VhostMiddle(Middle):
    """Reference: stock testpmd with DPDK's net_vhost, io forwarding."""

    kind = "vhost"

    def vdevs(self):
        out = []
        for i, p in enumerate(self.ports):
            d = "net_vhost%d,iface=%s,queues=1" % (i, p.sock)
            if not p.server:
                d += ",client=1"
            out += ["--vdev", d]
        return out

    def argv(self, prefix):
        return ([TESTPMD] + EAL_COMMON + ["-m", "512", "--file-prefix", prefix] + MIDDLE_LCORES
                + self.eal_args + self.vdevs()
                + ["--", "--forward-mode=io", "--stats-period", "1", "--total-num-mbufs=16384"]
                + self.app_args)


def vdevpeer_vdevs(ports):
    out = []
    for i, p in enumerate(ports):
        args = {"peer": p.sock, "server": "1" if p.server else "0"}
        args.update(p.devargs)
        out += ["--vdev", "net_vdevpeer%d," % i + ",".join("%s=%s" % kv for kv in args.items())]
    return out


class VdevpeerMiddle(Middle):
    """The product: build/app/dpdk-vdevpeer with net_vdevpeer ports."""

    kind = "vdevpeer"
    pmd = True

    _FINAL_PORT = re.compile(r"^Port (\d+) \(([^)]*)\):\s*\n\s*rx: packets (\d+).*\n\s*tx: packets (\d+)", re.M)

    def final_stats(self):
        log = self.proc.log()
        i = log.find("Final statistics")
        if i < 0:
            return {}
        return {int(m.group(1)): {"name": m.group(2), "rx": int(m.group(3)), "tx": int(m.group(4))}
                for m in self._FINAL_PORT.finditer(log[i:])}

    def argv(self, prefix):
        lcores = [] if {"-l", "--lcores"} & set(self.eal_args) else MIDDLE_LCORES
        return ([APP] + EAL_COMMON + ["-m", "512", "--file-prefix", prefix] + lcores
                + self.eal_args + vdevpeer_vdevs(self.ports)
                + ["--", "--stats-period", "1"] + self.app_args)


class HugeMiddle(VdevpeerMiddle):
    """dpdk-vdevpeer with its memory on hugepages instead of --no-huge."""

    def __init__(self, group, ports, huge_dir):
        super().__init__(group, ports)
        self.huge_dir = huge_dir

    def argv(self, prefix):
        argv = super().argv(prefix)
        i = argv.index("--no-huge")
        return argv[:i] + ["--huge-dir", self.huge_dir] + argv[i + 1:]


class PluginMiddle(Middle):
    """Stock testpmd with our PMD loaded as a plugin (-d)."""

    kind = "plugin"
    pmd = True

    def argv(self, prefix):
        return ([TESTPMD] + EAL_COMMON + ["-m", "512", "--file-prefix", prefix] + MIDDLE_LCORES
                + ["-d", PMD_SO] + self.eal_args + vdevpeer_vdevs(self.ports)
                + ["--", "--forward-mode=io", "--stats-period", "1", "--total-num-mbufs=16384"]
                + self.app_args)


MIDDLES = {"vhost": VhostMiddle, "vdevpeer": VdevpeerMiddle, "plugin": PluginMiddle}


# ---------------------------------------------------------------------------
# one-shot transfer: guest A sends a pcap through the middle to guest B
# ---------------------------------------------------------------------------

def path_counters(middle, guests):
    """Where did frames go?  The guests' testpmd counters (and the middle's
    log tail), for failure messages."""
    lines = []
    for g in guests:
        if g is None or g.proc is None:
            continue
        text = g.proc.log()
        for port, st in sorted(testpmd_nic_stats(text).items()):
            lines.append("%s port %d NIC: %s" % (g.name, port, _kv(st)))
        for port, st in sorted(testpmd_fwd_stats(text).items()):
            lines.append("%s port %d fwd: %s" % (g.name, port, _kv(st)))
    if middle is not None and middle.proc is not None:
        text = middle.proc.log()
        nic = testpmd_nic_stats(text)
        for port, st in sorted(nic.items()):
            lines.append("middle(%s) port %d NIC: %s" % (middle.kind, port, _kv(st)))
        if not nic:
            # not testpmd: its own statistics format
            lines.append("middle(%s) log tail:\n%s" % (middle.kind, middle.proc.tail(30)))
    return "\n".join(lines)


def _kv(st):
    keys = ("RX-packets", "RX-missed", "RX-errors", "RX-nombuf", "RX-dropped",
            "TX-packets", "TX-errors", "TX-dropped")
    return " ".join("%s=%d" % (k, st[k]) for k in keys if k in st)


class Transfer:
    """Send frames from a sender guest on sock_tx through the middle to a
    receiver guest on sock_rx, and collect what the receiver recorded.

    The middle must be running; if its ports listen (server=1) the guests
    are clients and are started after it: the receiver first, then (once the
    middle reports the receiver's device ready) the sender, whose pcap port
    reads the file once.  Frames then wait in the sender's ring until the
    middle polls it, so nothing is sent before the path exists.
    """

    def __init__(self, group, middle, sock_tx, sock_rx, tx_opts=None, rx_opts=None, tag=""):
        self.group = group
        self.middle = middle
        self.sock_tx = sock_tx
        self.sock_rx = sock_rx
        self.tx_opts = dict(tx_opts or {})
        self.rx_opts = dict(rx_opts or {})
        self.tag = tag
        self.tx = self.rx = None

    def run(self, frames, timeout=60):
        from . import frames as fr
        n = len(frames)
        inp = self.group.file("in%s.pcap" % self.tag)
        out = self.group.file("out%s.pcap" % self.tag)
        fr.write_pcap(inp, frames)
        if os.path.exists(out):
            os.unlink(out)
        m = self.middle
        base_rx = m.ready_count(self.sock_rx)
        base_tx = m.ready_count(self.sock_tx)
        tx_opts = {"mbuf_size": 10240}
        tx_opts.update(self.tx_opts)
        self.rx = Guest(self.group, "rx" + self.tag, self.sock_rx, tx_pcap=out, **self.rx_opts).start()
        m.wait_ready(self.sock_rx, base_rx + 1)
        self.tx = Guest(self.group, "tx" + self.tag, self.sock_tx, rx_pcap=inp, **tx_opts).start()
        m.wait_ready(self.sock_tx, base_tx + 1)
        try:
            self.rx.wait_counter(self.rx.pcap_port, "TX-packets", n, timeout)
        except ProcError as e:
            raise ProcError("%s\n%s" % (e, path_counters(m, [self.tx, self.rx])))
        rc_tx = self.tx.stop()
        rc_rx = self.rx.stop()
        assert rc_tx == 0, "sender testpmd exit %s" % rc_tx
        assert rc_rx == 0, "receiver testpmd exit %s" % rc_rx
        return fr.read_pcap(out)

    def check(self, frames, timeout=60):
        """run() and assert every frame arrived once, intact, in order."""
        from . import frames as fr
        got = self.run(frames, timeout)
        diff = fr.compare(frames, got)
        assert diff is None, "%s\n%s" % (diff, path_counters(self.middle, [self.tx, self.rx]))
        return got


# ---------------------------------------------------------------------------
# perf/vdp-guestgen as a checking guest
# ---------------------------------------------------------------------------

GUESTGEN = os.path.join(BUILD, "perf", "vdp-guestgen")


def run_guestgen(group, a, b, eal, args, queues=1, devargs=""):
    """perf/vdp-guestgen as the guest on both sockets (virtio_user with
    `queues` pairs and `devargs`, one lcore); waits for it to exit 0.
    Returns (its output, its SUMMARY)."""
    import json
    import pytest
    if not os.path.exists(GUESTGEN):
        pytest.fail("%s is not built" % GUESTGEN, pytrace=False)
    dev = "queues=%d,queue_size=1024,mrg_rxbuf=1" % queues + ("," + devargs if devargs else "")
    pfx = group.new_prefix("gg")
    gg = group.start("guestgen", [GUESTGEN, "--no-pci"] + eal + [
        "--file-prefix", pfx, "--lcores", "0@0",
        "--vdev", "net_virtio_user0,path=%s,%s" % (a, dev),
        "--vdev", "net_virtio_user1,path=%s,%s" % (b, dev), "--"] + list(args)
        + (["--queues", str(queues)] if queues > 1 else []), prefix=pfx)
    assert gg.wait(120) == 0, gg.tail(40)
    out = gg.log()
    return out, json.loads(out.split("SUMMARY ", 1)[1].splitlines()[0])
