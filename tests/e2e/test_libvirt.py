# SPDX-License-Identifier: BSD-3-Clause
"""Linux VMs started by libvirt get their network through dpdk-vdevpeer
(docs/libvirt.md).

    domain A 10.0.0.1 <-> vp0 <-> dpdk-vdevpeer (io) <-> vp1 <-> domain B 10.0.0.2

Each domain has an ``<interface type='vhostuser'>`` and shared memfd
memory; one interface is ``mode='server'`` (QEMU listens, our port connects
with ``server=0``), the other ``mode='client'`` (our port listens with
``server=1``, QEMU connects), so one run covers both. The second case swaps
the modes and gives both VMs two vCPUs and ``<driver queues='2'/>``
against ports with ``queues=2`` and ``--rxq 2 --txq 2``. Each case: ping
both ways with 0% loss, a 4 MiB file over TCP with the sender's SHA-256,
then ``virsh destroy A`` + ``virsh start A``: A's port goes down and comes
up again in dpdk-vdevpeer (log and telemetry ``/vdevpeer/peer,0``), and
once A has booted again the pings go through again.

libvirt runs in session mode (``qemu:///session``) as user ``nobody``: the
test starts its own virtlogd and libvirtd with HOME and the XDG directories
in a fresh directory it owns, checks that the daemons answering are the
ones it started (their pid files and sockets in that directory), and stops
them by PID at the end, pass or fail, after destroying and undefining its
domains. The privileged daemon would need /etc/libvirt/qemu.conf and a
libvirt-qemu user; a session daemon needs neither, nor systemd. QEMU runs
under TCG (``<domain type='qemu'>``).

Two things QEMU 7.2 under TCG needs here, as in the plain QEMU tests: no
MSI-X on a vhost-user virtio-net device (``vectors=0`` through the qemu
XML namespace's ``<qemu:override>``) and no option ROM (``<rom
enabled='no'/>``). The guests' serial console is a unix socket libvirt
binds (logged by virtlogd too), driven with pexpect like
lib/qemu.py's QemuGuest; the domain is started paused, the console
connected, then resumed: nothing it prints is missed.

Skipped only when libvirtd, virtlogd or virsh is not installed (ci/setup.sh
installs them).
"""

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest

from lib.procs import APP, telemetry
from lib.qemu import (QEMU, GuestError, Proc, QemuGuest, parse_ping, tcp_file,
                      wait_for)
import proc  # tests/pylib, put on sys.path by lib.qemu

SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _which(name):
    return shutil.which(name, path=SBIN_PATH + ":" + os.environ.get("PATH", ""))


LIBVIRTD, VIRTLOGD, VIRSH = _which("libvirtd"), _which("virtlogd"), _which("virsh")
_missing = [n for n, p in (("libvirtd", LIBVIRTD), ("virtlogd", VIRTLOGD), ("virsh", VIRSH))
            if p is None]
pytestmark = [
    pytest.mark.vdevpeer_only,
    pytest.mark.skipif(
        bool(_missing), reason="libvirt is not installed (missing: %s; ci/setup.sh installs "
        "libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)" % ", ".join(_missing)),
]

IP_A, IP_B = "10.0.0.1", "10.0.0.2"
MAC_A, MAC_B = "52:54:00:70:00:01", "52:54:00:70:00:02"
SIZE = 4 * 1024 * 1024
MEM_MB = 256


# ---------------------------------------------------------------------------
# libvirt in session mode, as an unprivileged user, daemons of our own
# ---------------------------------------------------------------------------
class Daemon(proc.Proc):
    """virtlogd or libvirtd: SIGTERM (both exit cleanly on it), SIGKILL
    after 10 s; by PID."""
    escalation = ((signal.SIGKILL, 5.0),)
    error = GuestError
    timeout_error = TimeoutError

    def stop(self, sig=signal.SIGTERM, timeout=10):
        return super().stop(sig, timeout)


class LibvirtSession:
    """virtlogd + libvirtd serving qemu:///session for one user (``nobody``
    when we are root), everything under a fresh directory of that user's.

    ``dir`` holds home/, config/, cache/ and run/ (HOME, XDG_CONFIG_HOME,
    XDG_CACHE_HOME, XDG_RUNTIME_DIR), and the kernel, initrd, domain XML,
    sockets and serial logs of the test. pytest's own tmp dirs are root's
    with mode 0700, hence a directory of its own under /tmp.
    """

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.dir = Path(tempfile.mkdtemp(prefix="vdp-lv-", dir="/tmp"))
        try:
            self._setup()
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def _setup(self) -> None:
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
            self.as_user = ["setpriv", "--reuid=%d" % self.uid, "--regid=%d" % self.gid,
                            "--clear-groups", "--"]
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
            self.as_user = []
        self.env = {
            "HOME": str(self.dir / "home"),
            "XDG_CONFIG_HOME": str(self.dir / "config"),
            "XDG_CACHE_HOME": str(self.dir / "cache"),
            "XDG_RUNTIME_DIR": str(self.dir / "run"),
            # virsh must never spawn a daemon of its own: ours or nothing
            "LIBVIRT_AUTOSTART": "0",
            "PATH": SBIN_PATH,
            "LANG": "C.UTF-8",
        }
        for sub in ("home", "config", "cache", "run"):
            (self.dir / sub).mkdir(mode=0o700)
        self.own(self.dir, 0o755)
        for sub in ("home", "config", "cache", "run"):
            self.own(self.dir / sub)
        self.rundir = self.dir / "run" / "libvirt"
        self.virtlogd = self.libvirtd = None
        self.virsh_log = self.logdir / "virsh.log"

    def own(self, path: Path, mode=None) -> None:
        os.chown(path, self.uid, self.gid)
        if mode is not None:
            os.chmod(path, mode)

    def put(self, name: str, data: bytes, mode=0o644) -> Path:
        """A file of the session's user in the session's directory."""
        p = self.dir / name
        p.write_bytes(data)
        self.own(p, mode)
        return p

    def _start_daemon(self, binary: str, name: str) -> None:
        d = Daemon(name, self.as_user + [binary], self.logdir / f"{name}.log", env=self.env)
        setattr(self, name, d)      # close() stops it, whatever happens next
        pidfile, sock = self.rundir / f"{name}.pid", self.rundir / (
            "libvirt-sock" if name == "libvirtd" else "virtlogd-sock")

        def ours():
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                return False        # not there, or not written yet
            if pid != d.pid:
                raise GuestError(f"{pidfile} names pid {pid}, not the {name} we started "
                                 f"(pid {d.pid})")
            return sock.exists()
        wait_for(ours, 30, f"{name} (pid {d.pid}): its pid file and {sock}", alive=d.died_msg)

    def start(self) -> "LibvirtSession":
        # virtlogd first: libvirtd would otherwise spawn one for the serial logs
        self._start_daemon(VIRTLOGD, "virtlogd")
        self._start_daemon(LIBVIRTD, "libvirtd")
        return self

    def virsh(self, *args, timeout=90, check=True) -> subprocess.CompletedProcess:
        argv = self.as_user + [VIRSH, "-q", "-c", "qemu:///session", *map(str, args)]
        t0 = time.monotonic()
        try:
            r = subprocess.run(argv, env=self.env, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            with open(self.virsh_log, "a") as f:
                f.write(f"$ virsh {' '.join(map(str, args))}  (no answer in {timeout} s)\n")
            raise GuestError(f"virsh {' '.join(map(str, args))}: no answer in {timeout} s"
                             + self.context()) from e
        with open(self.virsh_log, "a") as f:
            f.write(f"$ virsh {' '.join(map(str, args))}  ({time.monotonic() - t0:.2f} s, "
                    f"exit {r.returncode})\n{r.stdout}{r.stderr}")
        if check and r.returncode != 0:
            raise GuestError(f"virsh {' '.join(map(str, args))} failed (exit {r.returncode}):"
                             f"\n{r.stdout}{r.stderr}" + self.context())
        return r

    def domain_log(self, name: str) -> Path:
        """QEMU's log of a domain (command line, errors), written by libvirt."""
        return self.dir / "cache" / "libvirt" / "qemu" / "log" / f"{name}.log"

    def qemu_pidfile(self, name: str) -> Path:
        return self.rundir / "qemu" / "run" / f"{name}.pid"

    def context(self) -> str:
        out = []
        for d in (self.libvirtd, self.virtlogd):
            if d is not None:
                out.append(f"\n--- {d.name} log ---\n{d.tail(20, skip_blank=True)}")
        return "".join(out)

    def close(self) -> None:
        """Stop libvirtd, then virtlogd, by PID; keep the domains' logs in
        the test's log dir; remove the directory."""
        for d in (self.libvirtd, self.virtlogd):
            if d is not None:
                d.stop()
        for p in sorted((self.dir / "cache" / "libvirt" / "qemu" / "log").glob("*.log")) + \
                sorted(self.dir.glob("*-serial.log")):
            with contextlib.suppress(OSError):
                shutil.copy(p, self.logdir / ("libvirt-" + p.name))
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# a domain
# ---------------------------------------------------------------------------
def domain_xml(name: str, kernel: Path, initrd: Path, ip: str, mac: str, sock: Path,
               mode: str, console: Path, serial_log: Path, queues: int = 1,
               vcpus: int = 1, mem_mb: int = MEM_MB) -> str:
    """The domain: TCG, q35, shared memfd memory, the guest kit's kernel,
    one vhost-user interface (docs/libvirt.md), the serial console on a
    unix socket. QEMU 7.2 TCG: no MSI-X (vectors=0), no option ROM."""
    a = quoteattr
    source = f"<source type='unix' path={a(str(sock))} mode={a(mode)}"
    # mode='client': QEMU connects again, every second, when we went away
    source += (">\n        <reconnect enabled='yes' timeout='1'/>\n      </source>"
               if mode == "client" else "/>")
    driver = f"\n      <driver queues='{queues}'/>" if queues > 1 else ""
    return f"""<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>{escape(name)}</name>
  <memory unit='MiB'>{mem_mb}</memory>
  <vcpu>{vcpus}</vcpu>
  <memoryBacking>
    <source type='memfd'/>
    <access mode='shared'/>
  </memoryBacking>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>{escape(str(kernel))}</kernel>
    <initrd>{escape(str(initrd))}</initrd>
    <cmdline>console=ttyS0 quiet loglevel=1 panic=-1 vdp.ip={ip}/24</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>{escape(shutil.which(QEMU) or '/usr/bin/' + QEMU)}</emulator>
    <controller type='usb' model='none'/>
    <interface type='vhostuser'>
      <alias name='ua-net0'/>
      <mac address={a(mac)}/>
      {source}
      <model type='virtio'/>{driver}
      <rom enabled='no'/>
    </interface>
    <serial type='unix'>
      <source mode='bind' path={a(str(console))}/>
      <log file={a(str(serial_log))}/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
  <qemu:override>
    <qemu:device alias='ua-net0'>
      <qemu:frontend>
        <qemu:property name='vectors' type='unsigned' value='0'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
</domain>
"""


class _Console:
    """Factory of a pexpect over the serial console's unix socket."""

    @staticmethod
    def open(path: Path, logf):
        import pexpect.fdpexpect

        class Spawn(pexpect.fdpexpect.fdspawn):
            # what QemuGuest uses of pexpect.spawn beyond fdspawn
            def sendcontrol(self, char):
                return self.send(chr(ord(char.lower()) - ord("a") + 1))

        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(path))
        except OSError:
            s.close()
            raise
        fd = s.detach()          # the spawn owns the fd from here on
        child = Spawn(fd, encoding="utf-8", codec_errors="replace", timeout=30)
        child.logfile_read = logf
        return child


class LibvirtGuest(QemuGuest):
    """A domain of a LibvirtSession, driven like a QemuGuest: the shell
    helpers (run, check, poll, wait_ready, tcp_file) are QemuGuest's; the
    life cycle is virsh's (define, start --paused, console, resume;
    destroy; undefine), and QEMU's PID comes from libvirt's pid file."""

    def __init__(self, lv: LibvirtSession, kit, kernel: Path, initrd: Path, logdir: Path, *,
                 name: str, ip: str, mac: str, mode: str, queues: int = 1, vcpus: int = 1):
        sock = lv.dir / f"{name}.sock"
        # QemuGuest's role is libvirt's mode: who listens on the socket (its
        # QEMU command line is not used)
        super().__init__(kit, sock, logdir, ip=f"{ip}/24", mac=mac, role=mode, name=name)
        self.lv, self.mode, self.queues = lv, mode, queues
        self.console_sock = lv.dir / f"{name}.console"
        self.serial_log = lv.dir / f"{name}-serial.log"
        self.xml = domain_xml(name, kernel, initrd, ip, mac, sock, mode, self.console_sock,
                              self.serial_log, queues, vcpus)
        self.qemu_pid = None
        self.defined = self.running = False
        self.starts = 0

    @property
    def pid(self):
        return self.qemu_pid

    def define(self) -> "LibvirtGuest":
        path = self.lv.put(f"{self.name}.xml", self.xml.encode())
        (self.workdir / f"{self.name}.xml").write_text(self.xml)
        self.lv.virsh("define", path)
        self.defined = True
        return self

    def start(self) -> "LibvirtGuest":
        """virsh start --paused (with mode='server' it returns once the
        backend has connected: QEMU waits for it), connect to the console,
        virsh resume: the guest boots with us listening."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self._logf is None or self._logf.closed:
            self._logf = open(self.console_log, "a", encoding="utf-8", errors="replace")
        self.starts += 1
        self._logf.write(f"\n=== virsh start {self.name} (#{self.starts}) ===\n")
        self._logf.flush()
        self._t0 = time.monotonic()
        self.running = True     # from here on, destroy() has something to do
        self.qemu_pid = None
        self.lv.virsh("start", "--paused", self.name)
        pidfile = self.lv.qemu_pidfile(self.name)
        self.qemu_pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(),
                                     10, f"QEMU's pid file {pidfile}"))
        self.child = _Console.open(self.console_sock, self._logf)
        self.child.delaybeforesend = None
        self.lv.virsh("resume", self.name)
        return self

    def _is_ours(self, pid) -> bool:
        """pid is a live QEMU of this domain of this session (not a PID
        reused since, not another test's QEMU)."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except (OSError, IndexError):
            return False
        return state != "Z" and f"guest={self.name},".encode() in cmd \
            and str(self.lv.dir).encode() in cmd

    def _qemu_alive(self) -> bool:
        return self.qemu_pid is not None and self._is_ours(self.qemu_pid)

    def _find_qemu(self):
        """QEMU's PID when start() did not get it (virsh start failed or
        hung): libvirt's pid file, else the process whose command line
        names this domain and this session's directory."""
        try:
            pid = int(self.lv.qemu_pidfile(self.name).read_text().strip())
            if self._is_ours(pid):
                return pid
        except (OSError, ValueError):
            pass
        for d in os.listdir("/proc"):
            if d.isdigit() and self._is_ours(int(d)):
                return int(d)
        return None

    def dead(self):
        if self.child is None:
            return "the domain was not started"
        self._pump()
        if self._qemu_alive():
            return None
        return (f"QEMU of domain {self.name} (pid {self.qemu_pid}) is gone; console ends:\n"
                f"{self.console_tail()}\n--- domain log ---\n{self.domain_log_tail()}")

    def check_qemu_cmdline(self) -> None:
        """What the XML made of QEMU's command line (libvirt's domain log):
        shared memfd RAM, the vhost-user netdev as asked, no MSI-X, no ROM.
        (libvirt 9.0 still logs "vhost-user interface without any shared
        memory" for memfd RAM without NUMA cells: its check only knows
        hugepages, docs/libvirt.md.)"""
        log = self.lv.domain_log(self.name).read_text(errors="replace")
        assert re.search(r'"qom-type":"memory-backend-memfd","id":"pc.ram","share":true', log), log
        chardev = re.findall(r"-chardev (socket,id=charua-net0,\S+)", log)
        assert chardev, log
        want = "server=on" if self.mode == "server" else "reconnect=1"
        assert want in chardev[-1] and f"path={self.sock}" in chardev[-1], chardev
        dev = re.findall(r'-device \'(\{"driver":"virtio-net-pci".*?\})\'', log)
        assert dev and '"vectors":0' in dev[-1] and '"romfile":""' in dev[-1], dev
        assert ('"mq":true' in dev[-1]) == (self.queues > 1), dev
        if self.queues > 1:
            assert f'"type":"vhost-user","chardev":"charua-net0","queues":{self.queues}' in log, log

    def domain_log_tail(self, lines=15) -> str:
        try:
            text = self.lv.domain_log(self.name).read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _close_console(self) -> None:
        if self.child is not None:
            with contextlib.suppress(Exception):
                self._pump()
            with contextlib.suppress(OSError):
                self.child.close()
        self._shell = False

    def destroy(self) -> None:
        """virsh destroy (QEMU is killed by libvirt); returns once its QEMU
        is gone (killed by PID here if libvirt did not)."""
        self._close_console()
        if not self.running:
            return
        self.running = False
        if self.qemu_pid is None:
            self.qemu_pid = self._find_qemu()
        err = None
        try:
            r = self.lv.virsh("destroy", self.name, check=False)
            if r.returncode != 0 and "not running" not in (r.stdout + r.stderr):
                err = f"virsh destroy {self.name}: {r.stdout}{r.stderr}"
        except GuestError as e:
            err = str(e)
        if self._qemu_alive():
            with contextlib.suppress(TimeoutError, GuestError):
                wait_for(lambda: not self._qemu_alive(), 10, f"QEMU of {self.name} to exit")
        if self._qemu_alive():
            os.kill(self.qemu_pid, signal.SIGKILL)
            wait_for(lambda: not self._qemu_alive(), 10, f"QEMU of {self.name} to die")
            err = (err or "") + f" (QEMU pid {self.qemu_pid} killed)"
        self.qemu_pid = None
        if err:
            raise GuestError(err)

    def close(self, timeout: float = 10) -> None:
        """Destroy and undefine the domain; whatever happened."""
        try:
            self.destroy()
        finally:
            if self.defined:
                self.defined = False
                self.lv.virsh("undefine", self.name, check=False)
            if self._logf and not self._logf.closed:
                self._logf.close()


# ---------------------------------------------------------------------------
# dpdk-vdevpeer between the two domains
# ---------------------------------------------------------------------------
def middle_argv(prefix: str, ports, queues: int) -> list:
    """ports: [(socket, qemu mode)]: our port connects (server=0) to a
    QEMU in mode='server' and listens (server=1) for one in mode='client'."""
    q = f",queues={queues}" if queues > 1 else ""
    argv = [str(APP), "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix,
            "-l", "0,1"]
    for i, (sock, mode) in enumerate(ports):
        argv += ["--vdev", f"net_vdevpeer{i},peer={sock},server={0 if mode == 'server' else 1},"
                 f"bind=vp{i}{q}"]
    argv += ["--", "--fwd", "io", "--stats-period", "5"]
    if queues > 1:
        argv += ["--rxq", str(queues), "--txq", str(queues)]
    return argv


def peer(prefix: str, port: int) -> dict:
    """/vdevpeer/peer,<port>; {} when the app does not answer (the waits
    on it say why: they watch the process)."""
    try:
        return telemetry(prefix, f"/vdevpeer/peer,{port}") or {}
    except OSError:
        return {}


def links(mid, port: int, state: str) -> int:
    return len(re.findall(rf"Port {port} \(vp{port}\): Link {state}", mid.output()))


def ping_both_ways(ga, gb, what: str, n: int = 10):
    for src, dst, dst_ip in ((ga, gb, IP_B), (gb, ga, IP_A)):
        # the path may still be coming up: single pings until one answers
        src.poll(f"ping -c 1 -W 1 -q {dst_ip} >/dev/null 2>&1", timeout=60, interval=0.2)
        rc, out = src.run(f"ping -c {n} -i 0.2 {dst_ip}", timeout=120)
        tx, rx, loss = parse_ping(out)
        assert (tx, rx, loss) == (n, n, 0.0) and rc == 0, \
            f"[{what}] {src.name} -> {dst.name} ({dst_ip}) lost packets:\n{out}"


CASES = [
    # (A's mode, B's mode, queue pairs, vCPUs)
    pytest.param("server", "client", 1, 1, id="A-server+B-client"),
    pytest.param("client", "server", 2, 2, id="A-client+B-server-2queues"),
]


@pytest.mark.parametrize("mode_a,mode_b,queues,vcpus", CASES)
def test_libvirt_domains(guest_kit, tmp_path, record_property, mode_a, mode_b, queues, vcpus):
    if not os.access(APP, os.X_OK):
        pytest.fail(f"{APP} is not built", pytrace=False)
    t_start = time.monotonic()
    with contextlib.ExitStack() as stack:
        lv = LibvirtSession(tmp_path)
        stack.callback(lv.close)
        kernel = lv.put("vmlinuz", guest_kit.kernel.read_bytes())
        initrd = lv.put("initramfs.gz", guest_kit.initrd.read_bytes())
        lv.start()

        ga = LibvirtGuest(lv, guest_kit, kernel, initrd, tmp_path, name="A", ip=IP_A, mac=MAC_A,
                          mode=mode_a, queues=queues, vcpus=vcpus)
        gb = LibvirtGuest(lv, guest_kit, kernel, initrd, tmp_path, name="B", ip=IP_B, mac=MAC_B,
                          mode=mode_b, queues=queues, vcpus=vcpus)
        guests = (ga, gb)

        # dpdk-vdevpeer first: its server=1 ports must listen before QEMU
        # connects, its server=0 ports reconnect until QEMU listens
        prefix = f"vdp-lv-{os.getpid()}-{queues}"
        mid = Proc(middle_argv(prefix, [(g.sock, g.mode) for g in guests], queues),
                   tmp_path / "middle.log", name="dpdk-vdevpeer", dpdk_prefix=prefix)
        stack.callback(mid.stop)
        for g in guests:
            if g.mode == "client":
                # made by root (umask 022): QEMU, as the session's user, needs
                # write access to connect (docs/libvirt.md)
                wait_for(lambda: g.sock.exists(), 30, f"our socket {g.sock}", alive=mid.dead)
                os.chmod(g.sock, 0o666)

        def context():
            return (f"\n--- dpdk-vdevpeer ---\n{mid.tail(30)}"
                    + "".join(f"\n--- {g.name} console ---\n{g.console_tail(15)}"
                              f"\n--- {g.name} domain log ---\n{g.domain_log_tail(8)}"
                              for g in guests) + lv.context())

        try:
            for g in guests:
                stack.callback(g.close)
                g.define()
            for g in guests:
                g.start()
            for g in guests:
                boot = g.wait_ready(180)
                record_property(f"boot_seconds_{g.name}", round(boot, 1))
                print(f"\n{g.name} (mode={g.mode}) ready in {boot:.1f} s: {g.ready_line}")
                g.check_qemu_cmdline()
            for port, g in enumerate(guests):
                assert g.check("cat /sys/class/net/eth0/address") == g.mac
                g.poll('[ "$(cat /sys/class/net/eth0/operstate)" = up ]', timeout=30)
                wait_for(lambda: peer(prefix, port).get("running") == 1, 30,
                         f"vp{port} running", alive=mid.dead)
                st = peer(prefix, port)
                assert st.get("role") == ("client" if g.mode == "server" else "server"), st
                # learned from the guest's first frame, which may come after
                # its link is up (IPv6 neighbour discovery)
                wait_for(lambda: peer(prefix, port).get("guest_mac", "") != "unknown", 30,
                         f"vp{port} learning its guest's MAC", alive=mid.dead)
                st = peer(prefix, port)
                assert st.get("guest_mac", "").lower() == g.mac, st
            assert mid.dead() is None, mid.dead()

            def pairs(vp, all_lines=False):
                """The pairs in use on port vp, as its latest line says
                (one is logged on every change); all_lines: every such line."""
                got = re.findall(rf"{vp} \([^)]*\): queue pairs in use: (\S+) \(the guest "
                                 rf"set up {queues}", mid.output())
                return got if all_lines else (got[-1] if got else None)

            if queues > 1:
                # both pairs set up by the VMM, enabled by Linux (2 vCPUs),
                # served by the port's 2 rx / 2 tx queues
                wait_for(lambda: pairs("vp0") == pairs("vp1") == "0-1", 60,
                         "queue pairs 0-1 in use on both ports", alive=mid.dead)
                for port, g in enumerate(guests):
                    assert g.check("ethtool -l eth0 | tail -n 4 | grep Combined") \
                        .split()[-1] == str(queues)
                    st = peer(prefix, port)
                    assert st.get("queue_pairs") == queues and st.get("vrings") == 2 * queues, st
                    for v in range(2 * queues):
                        ring = [val for key, val in st.items()
                                if key.startswith(f"vring{v}_guest_")]
                        assert ring and ring[0][1] == 1 and ring[0][2] == 1, (port, v, st)

            ping_both_ways(ga, gb, "first boot")
            before = [telemetry(prefix, f"/ethdev/stats,{p}") for p in (0, 1)]
            secs, want, got = tcp_file(ga, gb, IP_B, SIZE)
            record_property("transfer_seconds", round(secs, 2))
            print(f"{SIZE >> 20} MiB A -> B in {secs:.1f} s")
            assert got == want, f"B's copy differs from A's file ({got} != {want})" + context()
            after = [telemetry(prefix, f"/ethdev/stats,{p}") for p in (0, 1)]
            for p in (0, 1):
                rxq = [b - a for a, b in zip(before[p]["q_ipackets"][:queues],
                                             after[p]["q_ipackets"][:queues])]
                assert sum(rxq) > 0, (p, rxq)
                print(f"vp{p} frames received per queue during the transfer: {rxq}")

            # virsh destroy + virsh start: A's port goes down, then up again
            downs, ups = links(mid, 0, "down"), links(mid, 0, "up")
            both = pairs("vp0", all_lines=True).count("0-1")
            ga.destroy()
            wait_for(lambda: links(mid, 0, "down") > downs, 30, "vp0 link down after destroy",
                     alive=mid.dead)
            wait_for(lambda: peer(prefix, 0).get("running") == 0, 30,
                     "vp0 not running after destroy", alive=mid.dead)
            if mode_a == "server":
                # QEMU's socket is gone: our port waits and reconnects
                wait_for(lambda: peer(prefix, 0).get("connected") == 0, 30,
                         "vp0 disconnected after destroy", alive=mid.dead)
            t0 = time.monotonic()
            ga.start()
            boot = ga.wait_ready(180)
            wait_for(lambda: links(mid, 0, "up") > ups, 60, "vp0 link up after virsh start",
                     alive=mid.dead)
            wait_for(lambda: peer(prefix, 0).get("running") == 1, 30, "vp0 running again",
                     alive=mid.dead)
            ga.poll('[ "$(cat /sys/class/net/eth0/operstate)" = up ]', timeout=30)
            if queues > 1:
                wait_for(lambda: pairs("vp0", all_lines=True).count("0-1") > both, 60,
                         "vp0: both pairs in use again after virsh start", alive=mid.dead)
            ping_both_ways(ga, gb, "after virsh destroy + start")
            record_property("restart_seconds", round(time.monotonic() - t0, 1))
            print(f"A destroyed and started again: booted in {boot:.1f} s, pings answer "
                  f"{time.monotonic() - t0:.1f} s after virsh start")
            assert mid.dead() is None, mid.dead()
            assert gb.dead() is None, gb.dead()
        except (GuestError, TimeoutError, AssertionError, OSError, ValueError) as e:
            failure = f"{type(e).__name__}: {e}" + context()
        else:
            failure = None
        if failure:
            pytest.fail(failure, pytrace=False)
    record_property("total_seconds", round(time.monotonic() - t_start, 1))
