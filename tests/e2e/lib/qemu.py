"""A real Linux guest under QEMU (TCG) with a vhost-user virtio-net device.

The guest is built by ci/guest-kit.sh: a Debian cloud kernel plus a
busybox-static initramfs whose /init loads the virtio-net modules, puts the
address given as ``vdp.ip=`` on eth0, prints ``VDP-GUEST-READY`` and runs an
interactive shell on the serial console. :class:`QemuGuest` boots it, drives
that console with pexpect and always stops what it started.

Also here, because the tests need them and must not depend on the harness
next door: :class:`Proc` (a logged background process stopped by PID) and
:func:`wait_for`, both over tests/pylib/proc.py.

Facts this relies on (checked on Debian 12 / QEMU 7.2, see docs in
/work/shared/DESIGN.md): only TCG works here; guest RAM must be a shared
memfd or nothing reaches the backend; MSI-X with vhost-user crashes QEMU 7.2
TCG, hence ``vectors=0``; as socket server QEMU waits for the backend to
connect before it boots the guest.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

REPO = Path(__file__).resolve().parents[3]
# the process wrapper and wait helper shared with perf/ (tests/pylib)
if str(REPO / "tests" / "pylib") not in sys.path:
    sys.path.insert(0, str(REPO / "tests" / "pylib"))
import proc  # noqa: E402
DEFAULT_KIT_DIR = REPO / "tests" / "e2e" / ".guest"
GUEST_KIT_SCRIPT = REPO / "ci" / "guest-kit.sh"

READY_MARKER = "VDP-GUEST-READY"
ERROR_MARKER = "VDP-GUEST-ERROR"
PROMPT = "vdp-guest# "
QEMU = "qemu-system-x86_64"

# The longest path a unix socket address takes (sun_path is 108 bytes).
UNIX_PATH_MAX = 107


class GuestKitMissing(Exception):
    """The guest kit is not there and could not be built."""


class GuestError(Exception):
    """The guest did not boot or did not answer as expected."""


@dataclass(frozen=True)
class GuestKit:
    kernel: Path
    initrd: Path
    info: dict

    @classmethod
    def load(cls, kit_dir: Path) -> "GuestKit":
        kernel, initrd = kit_dir / "vmlinuz", kit_dir / "initramfs.gz"
        for f in (kernel, initrd):
            if not f.is_file() or f.stat().st_size == 0:
                raise GuestKitMissing(f"{f} is missing")
        info = {}
        env = kit_dir / "kit.env"
        if env.is_file():
            for line in env.read_text().splitlines():
                k, sep, v = line.partition("=")
                if sep:
                    info[k] = v.strip("'")
        return cls(kernel, initrd, info)


def ensure_guest_kit(kit_dir: Optional[Path] = None, build: bool = True,
                     timeout: float = 900) -> GuestKit:
    """Return the guest kit, running ci/guest-kit.sh first when it is missing.

    ``VDP_GUEST_KIT`` overrides the kit directory. Raises GuestKitMissing with
    the script's own error message when the kit cannot be had.
    """
    kit_dir = Path(os.environ.get("VDP_GUEST_KIT") or kit_dir or DEFAULT_KIT_DIR)
    if shutil.which(QEMU) is None and not build:
        raise GuestKitMissing(f"{QEMU} is not installed")
    try:
        kit = GuestKit.load(kit_dir)
        if shutil.which(QEMU):
            return kit
    except GuestKitMissing:
        if not build:
            raise
    try:
        r = subprocess.run([str(GUEST_KIT_SCRIPT), str(kit_dir)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise GuestKitMissing(f"ci/guest-kit.sh could not run: {e}") from e
    if r.returncode != 0:
        tail = "\n".join(r.stdout.strip().splitlines()[-5:])
        raise GuestKitMissing(f"ci/guest-kit.sh failed (exit {r.returncode}): {tail}")
    if shutil.which(QEMU) is None:
        raise GuestKitMissing(f"{QEMU} is not installed")
    return GuestKit.load(kit_dir)


def wait_for(cond: Callable[[], object], timeout: float, what: str,
             interval: float = 0.05, alive: Optional[Callable[[], Optional[str]]] = None):
    """Poll ``cond`` until it returns something true; return that.

    ``alive`` (optional) returns an error string when a process the wait
    depends on has died, which ends the wait at once (GuestError); a timeout
    raises TimeoutError (tests/pylib/proc.py's wait_until).
    """
    return proc.wait_until(cond, timeout, what, interval, fail_if=alive, error=GuestError,
                           timeout_error=TimeoutError)


class Proc(proc.Proc):
    """A background process whose output goes to a log file; stopped by PID
    (tests/pylib/proc.py: SIGINT, then SIGTERM, then SIGKILL; reaped, its
    DPDK runtime dir removed when ``dpdk_prefix`` is given). Usable as a
    context manager. Its waits raise GuestError when it died, TimeoutError
    on a timeout."""

    error = GuestError
    timeout_error = TimeoutError

    def __init__(self, argv: Sequence[str], log_path: Path, name: str = "",
                 dpdk_prefix: str = "", cwd: Optional[Path] = None):
        argv = [str(a) for a in argv]
        super().__init__(name or Path(argv[0]).name, argv, Path(log_path),
                         prefix=dpdk_prefix or None, cwd=cwd)

    @property
    def dpdk_prefix(self) -> str:
        return self.prefix or ""

    def output(self) -> str:
        """The whole log, the command line first."""
        return self.log()

    def tail(self, lines: int = 30) -> str:
        return super().tail(lines, skip_blank=True)

    def dead(self) -> Optional[str]:
        return self.died_msg()

    def wait_output(self, pattern: str, timeout: float = 30) -> re.Match:
        return self.wait_log(pattern, timeout)

    def stop(self, timeout: float = 10) -> Optional[int]:
        """SIGINT (DPDK apps clean up on it), then SIGTERM, then SIGKILL."""
        return super().stop(signal.SIGINT, timeout)


_cmd_ids = itertools.count(1)


class QemuGuest:
    """A Linux guest whose eth0 is a vhost-user virtio-net device on ``sock``.

    role='client': QEMU connects to ``sock``, so the backend must already
    listen there (our PMD with server=1, net_vhost's default).
    role='server': QEMU creates and listens on ``sock`` (server=on,wait=off)
    and does not boot the guest until a backend has connected (our PMD with
    server=0, net_vhost with client=1). Start the guest, call
    :meth:`wait_socket`, start the backend, then :meth:`wait_ready`.

    Use as a context manager, or call :meth:`close`: the guest is powered off
    and QEMU is killed by PID if it does not exit.
    """

    def __init__(self, kit: GuestKit, sock: Path, workdir: Path, *, ip: str,
                 mac: str = "52:54:00:50:00:02", role: str = "client",
                 mem_mb: int = 256, name: str = "guest", append: str = "",
                 netdev_opts: str = "", device_opts: str = "",
                 chardev_opts: str = "", extra_args: Sequence[str] = ()):
        if role not in ("client", "server"):
            raise ValueError(f"role must be 'client' or 'server', not {role!r}")
        if len(str(sock)) > UNIX_PATH_MAX:
            raise ValueError(f"socket path too long for a unix socket: {sock}")
        self.kit, self.sock, self.workdir = kit, Path(sock), Path(workdir)
        self.ip, self.mac, self.role, self.name = ip, mac, role, name
        self.console_log = self.workdir / f"{name}-console.log"
        self.boot_seconds: Optional[float] = None
        self.child = None
        self._logf = None
        self._t0 = 0.0
        self._shell = False

        chardev = f"socket,id=c0,path={self.sock}"
        if role == "server":
            chardev += ",server=on,wait=off"
        if chardev_opts:
            chardev += "," + chardev_opts
        cmdline = f"console=ttyS0 quiet loglevel=1 panic=-1 vdp.ip={ip}"
        if append:
            cmdline += " " + append
        self.argv = [
            QEMU, "-name", name,
            "-machine", "q35,accel=tcg", "-m", str(mem_mb),
            "-object", f"memory-backend-memfd,id=mem,size={mem_mb}M,share=on",
            "-numa", "node,memdev=mem",
            "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "stdio", "-monitor", "none", "-no-reboot",
            "-kernel", str(kit.kernel), "-initrd", str(kit.initrd),
            "-append", cmdline,
            "-chardev", chardev,
            "-netdev", "vhost-user,id=n0,chardev=c0" + (f",{netdev_opts}" if netdev_opts else ""),
            "-device", f"virtio-net-pci,netdev=n0,mac={mac},vectors=0,romfile="
            + (f",{device_opts}" if device_opts else ""),
            *extra_args,
        ]

    # -- life cycle ---------------------------------------------------------
    def start(self) -> "QemuGuest":
        import pexpect  # python3-pexpect; imported here so a missing one is a clear error

        self.workdir.mkdir(parents=True, exist_ok=True)
        self._logf = open(self.console_log, "w", encoding="utf-8", errors="replace")
        self._logf.write("$ " + " ".join(self.argv) + "\n")
        self._logf.flush()
        self._t0 = time.monotonic()
        self.child = pexpect.spawn(self.argv[0], self.argv[1:], encoding="utf-8",
                                   codec_errors="replace", timeout=30,
                                   dimensions=(50, 250), echo=False)
        self.child.logfile_read = self._logf
        self.child.delaybeforesend = None
        return self

    @property
    def pid(self) -> Optional[int]:
        return self.child.pid if self.child is not None else None

    def _pump(self) -> None:
        """Read whatever QEMU printed so far (keeps the log fresh, spots EOF)."""
        import pexpect

        try:
            self.child.expect([pexpect.TIMEOUT], timeout=0)
        except pexpect.EOF:
            pass

    def dead(self) -> Optional[str]:
        if self.child is None:
            return "QEMU was not started"
        self._pump()
        if self.child.isalive():
            return None
        return f"QEMU (pid {self.pid}) exited; console ends:\n{self.console_tail()}"

    def wait_socket(self, timeout: float = 30) -> None:
        """role='server': wait until QEMU listens on the socket."""
        wait_for(lambda: self.sock.exists(), timeout, f"QEMU's socket {self.sock}",
                 alive=self.dead)

    def wait_ready(self, timeout: float = 120) -> float:
        """Wait for the guest's ready marker and shell prompt; return boot seconds
        (counted from QEMU's start)."""
        import pexpect

        try:
            i = self.child.expect([READY_MARKER + r"[^\r\n]*\r*\n", ERROR_MARKER + r"[^\r\n]*\r*\n"],
                                  timeout=timeout)
        except pexpect.TIMEOUT:
            raise GuestError(f"no {READY_MARKER} within {timeout:.0f} s; console ends:\n"
                             + self.console_tail()) from None
        except pexpect.EOF:
            raise GuestError(f"QEMU exited before {READY_MARKER}; console ends:\n"
                             + self.console_tail()) from None
        if i == 1:
            raise GuestError(f"guest init failed: {self.child.after.strip()}\n"
                             + self.console_tail())
        self.ready_line = self.child.after.strip()
        self.boot_seconds = time.monotonic() - self._t0
        try:
            self.child.expect_exact(PROMPT, timeout=30)
        except (pexpect.TIMEOUT, pexpect.EOF):
            raise GuestError("no shell prompt after the ready marker; console ends:\n"
                             + self.console_tail()) from None
        self._shell = True
        return self.boot_seconds

    def run(self, cmd: str, timeout: float = 60) -> tuple[int, str]:
        """Run a shell command on the guest; return (exit status, output).

        The command's output is framed by two markers that the typed line does
        not contain literally (they are split by quotes), so the echo of the
        typed command never matches.
        """
        import pexpect

        if not self._shell:
            raise GuestError("the guest shell is not ready (call wait_ready first)")
        n = next(_cmd_ids)
        begin, end = f"@@VDP-B{n}@@", f"@@VDP-E{n}:"
        line = f'echo "@@VDP-""B{n}@@"; {cmd}\necho "@@VDP-""E{n}:$?@@"'
        self.child.send(line + "\n")
        try:
            self.child.expect_exact(begin, timeout=timeout)
            self.child.expect(re.escape(end) + r"(\d+)@@", timeout=timeout)
        except pexpect.TIMEOUT:
            # ^C so the shell is usable again for later commands
            self.child.sendcontrol("c")
            raise GuestError(f"command timed out after {timeout:.0f} s: {cmd}\nconsole ends:\n"
                             + self.console_tail()) from None
        except pexpect.EOF:
            raise GuestError(f"QEMU exited while running: {cmd}\nconsole ends:\n"
                             + self.console_tail()) from None
        out = self.child.before
        rc = int(self.child.match.group(1))
        try:
            self.child.expect_exact(PROMPT, timeout=10)
        except (pexpect.TIMEOUT, pexpect.EOF):
            pass
        out = out.replace("\r\n", "\n").replace("\r", "")
        # the typed second line (the end-marker echo) may be echoed inside
        out = "\n".join(l for l in out.split("\n")
                        if f'"@@VDP-""E{n}' not in l and not l.startswith(PROMPT))
        return rc, out.strip("\n")

    def adopt_shell(self, timeout: float = 30) -> None:
        """An incoming migration's guest: its shell came with the migrated
        state (no boot, no ready marker); wait for its prompt here."""
        import pexpect

        self._shell = True
        # a newline every few seconds: one that reaches the serial port
        # before the incoming guest runs may not be read as typed
        deadline = time.monotonic() + timeout
        while True:
            self.child.send("\n")
            left = max(0.1, deadline - time.monotonic())
            try:
                self.child.expect_exact(PROMPT, timeout=min(5.0, left))
                return
            except pexpect.EOF:
                break
            except pexpect.TIMEOUT:
                if time.monotonic() >= deadline:
                    break
        raise GuestError("no shell prompt on the migrated guest; console ends:\n"
                         + self.console_tail())

    def check(self, cmd: str, timeout: float = 60) -> str:
        """Run a command that must succeed; return its output."""
        rc, out = self.run(cmd, timeout)
        if rc != 0:
            raise GuestError(f"guest command failed (exit {rc}): {cmd}\n{out}")
        return out

    def poll(self, cond: str, timeout: float = 30, interval: float = 0.1) -> int:
        """Re-run the shell condition ``cond`` on the guest every ``interval``
        seconds until it succeeds; return how many times it failed first.
        Raises GuestError when it still fails after ``timeout`` seconds."""
        tries = max(1, int(timeout / interval))
        rc, out = self.run(
            f"n=0; until {cond}; do n=$((n+1)); [ $n -ge {tries} ] && break; "
            f"sleep {interval}; done; echo polled=$n; [ $n -lt {tries} ]",
            timeout=timeout * 2 + 30)
        m = re.search(r"polled=(\d+)", out)
        if rc != 0 or not m:
            raise GuestError(f"guest condition still false after {timeout:.0f} s: {cond}\n{out}")
        return int(m.group(1))

    def console_tail(self, lines: int = 40) -> str:
        if self._logf and not self._logf.closed:
            self._logf.flush()
        try:
            text = self.console_log.read_text(errors="replace")
        except OSError:
            return ""
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")
        return "\n".join(text.splitlines()[-lines:])

    def close(self, timeout: float = 10) -> None:
        """Power the guest off; kill QEMU by PID if it does not exit."""
        import pexpect

        c = self.child
        if c is None:
            return
        try:
            if c.isalive() and self._shell:
                try:
                    c.send("\x03")
                    c.send("poweroff -f\n")
                    c.expect(pexpect.EOF, timeout=timeout)
                except (pexpect.TIMEOUT, pexpect.EOF, OSError):
                    pass
            for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                if not c.isalive():
                    break
                try:
                    os.kill(c.pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + wait
                while c.isalive() and time.monotonic() < deadline:
                    time.sleep(0.05)
        finally:
            try:
                c.close(force=True)
            except Exception:
                pass
            if self._logf and not self._logf.closed:
                self._logf.close()
            self._shell = False
            if self.role == "server":
                try:
                    self.sock.unlink()
                except FileNotFoundError:
                    pass

    def __enter__(self):
        if self.child is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.close()


PING_SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received"
                          r"(?:, \+\d+ duplicates)?, (\d+(?:\.\d+)?)% packet loss")


def parse_ping(output: str) -> tuple[int, int, float]:
    """(transmitted, received, loss %) from a busybox or iputils ping summary."""
    m = PING_SUMMARY.search(output)
    if not m:
        raise ValueError(f"no ping summary in:\n{output}")
    return int(m.group(1)), int(m.group(2)), float(m.group(3))


def tcp_file(sender: QemuGuest, receiver: QemuGuest, ip: str, size: int,
             port: int = 5000, timeout: float = 240) -> tuple[float, str, str]:
    """Move ``size`` random bytes from sender to receiver (at ``ip``) over
    TCP with busybox nc: (seconds, sender's SHA-256, receiver's SHA-256)."""
    sender.check(f"dd if=/dev/urandom of=/tmp/f bs=65536 count={size // 65536} 2>/dev/null")
    want = sender.check("sha256sum /tmp/f").split()[0]
    # stdin from a pipe that stays open: a background job reading the
    # console would be stopped (SIGTTIN), and EOF could end nc early
    receiver.check(f"rm -f /tmp/r; (sleep 100000 | nc -l -p {port} > /tmp/r 2>/dev/null &)")
    receiver.poll(f"netstat -ltn 2>/dev/null | grep -q ':{port} '", timeout=20)
    t0 = time.monotonic()
    sender.check(f"(nc {ip} {port} < /tmp/f >/dev/null 2>&1 &)")
    receiver.poll(f"[ \"$(wc -c < /tmp/r)\" -ge {size} ]", timeout=timeout, interval=0.05)
    secs = time.monotonic() - t0
    got = receiver.check("sha256sum /tmp/r").split()[0]
    receiver.check(f"pkill -f 'nc -l -p {port}' 2>/dev/null; true")
    return secs, want, got


def middle_for(stack, tmp_path: Path, tag: str, app: str, names: Sequence[str] = ("A", "B"),
               devargs="", app_args: Sequence[str] = ()) -> tuple["Proc", list, str]:
    """dpdk-vdevpeer (``app``) with ports vp0, vp1, ... listening on
    <name>.sock for each of ``names`` (``devargs`` appended to each: one
    string for all, or a sequence of one per port),
    ``app_args`` after ``--fwd io`` (another --fwd wins), its stop and the
    sockets' removal on ``stack`` (a contextlib.ExitStack). Returns (the
    process, the socket paths, its --file-prefix) once every socket exists."""
    sockdir = tmp_path
    if len(str(sockdir / "A.sock")) > UNIX_PATH_MAX - 8:
        import tempfile
        sockdir = type(tmp_path)(tempfile.mkdtemp(prefix="vdp-%s-" % tag))
    socks = [sockdir / f"{n}.sock" for n in names]
    prefix = f"vdp-{tag}-{os.getpid()}"
    argv = [app, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix, "-l", "0,1"]
    per_port = [devargs] * len(socks) if isinstance(devargs, str) else list(devargs)
    assert len(per_port) == len(socks), (devargs, names)
    for i, s in enumerate(socks):
        argv += ["--vdev", f"net_vdevpeer{i},peer={s},server=1,bind=vp{i}{per_port[i]}"]
    argv += ["--", "--fwd", "io", "--stats-period", "5", *app_args]
    for s in socks:
        stack.callback(lambda s=s: s.exists() and s.unlink())
    mid = Proc(argv, tmp_path / "middle.log", name="dpdk-vdevpeer", dpdk_prefix=prefix)
    stack.callback(mid.stop)
    wait_for(lambda: all(s.exists() for s in socks), 30, "middle sockets", alive=mid.dead)
    return mid, socks, prefix


def middle_for_two(stack, tmp_path: Path, tag: str, app: str, devargs="",
                   app_args: Sequence[str] = ()) -> tuple["Proc", Path, Path, str]:
    """middle_for with ports vp0 on A.sock and vp1 on B.sock: (the process,
    A's path, B's path, its --file-prefix)."""
    mid, (sa, sb), prefix = middle_for(stack, tmp_path, tag, app, ("A", "B"), devargs, app_args)
    return mid, sa, sb, prefix


class Qmp:
    """A QMP client on QEMU's ``-qmp unix:PATH,server=on,wait=off`` socket."""

    def __init__(self, path: Path, timeout: float = 30):
        import json
        import socket

        self._json = json
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        wait_for(lambda: Path(path).exists(), timeout, f"QMP socket {path}")
        self.sock.connect(str(path))
        self.f = self.sock.makefile("r", encoding="utf-8")
        self._read()                       # the greeting
        self.cmd("qmp_capabilities")

    def _read(self) -> dict:
        line = self.f.readline()
        if not line:
            raise GuestError("QMP connection closed")
        return self._json.loads(line)

    def cmd(self, name: str, **args) -> object:
        """Execute a command; return its "return" value (events skipped)."""
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall((self._json.dumps(msg) + "\n").encode())
        while True:
            r = self._read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise GuestError(f"QMP {name}: {r['error']}")

    def close(self) -> None:
        self.sock.close()
