"""A real Linux guest pings, through dpdk-vdevpeer, a testpmd virtio_user
guest in icmpecho mode — 0% loss.

    QEMU Linux guest 192.168.50.2 (virtio-net, kernel driver)
      ⇄ vhost-user socket A ⇄ middle box port vp0
      ⇄ io forwarding ⇄ port vp1 ⇄ vhost-user socket B
      ⇄ Debian's stock dpdk-testpmd, net_virtio_user0, --forward-mode=icmpecho

testpmd's icmpecho engine answers every ARP request (with its port's MAC,
whatever IP is asked) and every ICMP echo request (swapping the addresses),
so 192.168.50.1 is simply the address the guest pings.

The middle box is dpdk-vdevpeer (the product). ``VDP_BACKEND=vhost`` puts
Debian's testpmd with DPDK's own net_vhost there instead, the reference to
compare against when ours misbehaves. Both socket roles are covered: QEMU as
vhost-user client (our port listens, server=1) and QEMU as server (our port
connects, server=0).

The guest kit (kernel + initramfs) comes from ci/guest-kit.sh; the tests build
it when it is missing and skip only if that fails.

CPU budget (2 CPUs): the middle box's worker busy-polls CPU 1 (-l 0,1), the
testpmd guest's main and forwarding lcores both sit on CPU 0 (--lcores
0@0,1@0) so that the two busy pollers never share a CPU; QEMU (TCG) takes
what is left.
"""

import contextlib
import itertools
import os
import tempfile
from pathlib import Path

import pytest

from lib.qemu import (REPO, UNIX_PATH_MAX, GuestError, Proc, QemuGuest, parse_ping,
                      wait_for)

# VDP_BACKEND=vdevpeer (default) | vhost | both, as for the other e2e tests
_want = os.environ.get("VDP_BACKEND", "vdevpeer").strip()
MIDDLE_BACKENDS = ["vdevpeer", "vhost"] if _want == "both" else [_want]
APP = Path(os.environ.get("VDP_APP") or REPO / "build" / "app" / "dpdk-vdevpeer")
TESTPMD = os.environ.get("VDP_TESTPMD", "dpdk-testpmd")

GUEST_IP, GUEST_PREFIX = "192.168.50.2", 24
PEER_IP = "192.168.50.1"
GUEST_MAC = "52:54:00:50:00:02"

_seq = itertools.count(1)


def unique_prefix(tag: str) -> str:
    return f"vdp-lg-{os.getpid()}-{next(_seq)}-{tag}"


# ---------------------------------------------------------------------------
# the pieces
# ---------------------------------------------------------------------------
def middle_argv(backend: str, prefix: str, sock_a: Path, sock_b: Path,
                a_listens: bool) -> list:
    """The middle box between socket A (the QEMU guest) and socket B (the
    testpmd guest). B always listens; A listens when ``a_listens`` (QEMU is
    the client), else it connects to QEMU's socket."""
    if backend == "vdevpeer":
        return [str(APP), "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix,
                "-l", "0,1",
                "--vdev", f"net_vdevpeer0,peer={sock_a},server={1 if a_listens else 0},bind=vp0",
                "--vdev", f"net_vdevpeer1,peer={sock_b},server=1,bind=vp1",
                "--", "--fwd", "io", "--stats-period", "1"]
    if backend == "vhost":
        return [TESTPMD, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix,
                "-l", "0,1",
                "--vdev", f"net_vhost0,iface={sock_a}" + ("" if a_listens else ",client=1"),
                "--vdev", f"net_vhost1,iface={sock_b}",
                "--", "--forward-mode=io", "--auto-start", "--stats-period", "1",
                "--total-num-mbufs", "16384"]
    raise ValueError(f"unknown backend {backend!r} (vdevpeer or vhost)")


def middle_link_up(backend: str, port: int) -> str:
    """Pattern of the middle box's log line saying ``port`` came up."""
    if backend == "vdevpeer":
        return rf"(?i)port {port} \(vp{port}\): link up"
    return rf"Port {port}: link state change event"


def icmpecho_argv(prefix: str, sock_b: Path) -> list:
    """Debian's testpmd as a DPDK guest that answers ARP and ping."""
    return [TESTPMD, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix,
            "--lcores", "0@0,1@0",
            "--vdev", f"net_virtio_user0,path={sock_b}",
            "--", "--forward-mode=icmpecho", "--auto-start", "--stats-period", "1",
            "--total-num-mbufs", "8192"]



@pytest.fixture
def sockdir(tmp_path):
    """Sockets live in the test's tmp dir unless its path is too long for a
    unix socket; removed after the test whatever happened."""
    d = tmp_path
    made = None
    if len(str(d / "A.sock")) > UNIX_PATH_MAX - 8:
        made = d = Path(tempfile.mkdtemp(prefix="vdp-lg-"))
    yield d
    for s in ("A.sock", "B.sock"):
        with contextlib.suppress(FileNotFoundError):
            (d / s).unlink()
    if made:
        with contextlib.suppress(OSError):
            made.rmdir()


def start_topology(stack: contextlib.ExitStack, kit, backend: str, qemu_role: str,
                   sockdir: Path, logdir: Path):
    """Start middle box, testpmd guest and QEMU guest in the order the socket
    roles need; every process is registered on ``stack`` for cleanup.
    Returns (guest, middle, echo)."""
    if backend == "vdevpeer" and not os.access(APP, os.X_OK):
        pytest.fail(f"{APP} is not built (VDP_BACKEND=vhost runs this test against "
                    f"DPDK's net_vhost instead)", pytrace=False)
    sock_a, sock_b = sockdir / "A.sock", sockdir / "B.sock"
    guest = QemuGuest(kit, sock_a, logdir, ip=f"{GUEST_IP}/{GUEST_PREFIX}", mac=GUEST_MAC,
                      role=qemu_role, name="linux-guest")
    mprefix = unique_prefix("mid")

    def start_middle():
        m = Proc(middle_argv(backend, mprefix, sock_a, sock_b, a_listens=qemu_role == "client"),
                 logdir / "middle.log", name=f"middle box ({backend})", dpdk_prefix=mprefix)
        stack.callback(m.stop)
        return m

    if qemu_role == "client":
        # the middle box listens on A and B before anyone connects
        middle = start_middle()
        wait_for(lambda: sock_a.exists() and sock_b.exists(), 30,
                 "the middle box's sockets A and B", alive=middle.dead)
    else:
        # QEMU listens on A and blocks until a backend connects
        stack.callback(guest.close)
        guest.start()
        guest.wait_socket(30)
        middle = start_middle()
        wait_for(lambda: sock_b.exists(), 30, "the middle box's socket B", alive=middle.dead)

    eprefix = unique_prefix("echo")
    echo = Proc(icmpecho_argv(eprefix, sock_b), logdir / "icmpecho.log",
                name="testpmd icmpecho guest", dpdk_prefix=eprefix)
    stack.callback(echo.stop)
    echo.wait_output(r"icmpecho packet forwarding - ports=1", 60)
    middle.wait_output(middle_link_up(backend, 1), 30)

    if qemu_role == "client":
        stack.callback(guest.close)
        guest.start()
    return guest, middle, echo


def describe(guest, middle, echo) -> str:
    return (f"\n--- middle box log ---\n{middle.tail()}"
            f"\n--- icmpecho guest log ---\n{echo.tail()}"
            f"\n--- guest console ---\n{guest.console_tail()}")


# ---------------------------------------------------------------------------
# the test
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("middle_backend", MIDDLE_BACKENDS)
@pytest.mark.parametrize("qemu_role", ["client", "server"],
                         ids=["qemu-client+port-server", "qemu-server+port-client"])
def test_linux_guest_pings_icmpecho_guest(guest_kit, sockdir, tmp_path, qemu_role,
                                          middle_backend, record_property):
    BACKEND = middle_backend
    with contextlib.ExitStack() as stack:
        guest, middle, echo = start_topology(stack, guest_kit, BACKEND, qemu_role,
                                             sockdir, tmp_path)
        boot = guest.wait_ready(180)
        record_property("boot_seconds", round(boot, 1))
        print(f"\n[{BACKEND}/{qemu_role}] guest ready in {boot:.1f} s: {guest.ready_line}")

        # the guest's NIC is the one QEMU gave it, and it is up
        assert guest.check("cat /sys/class/net/eth0/address") == GUEST_MAC
        guest.poll('[ "$(cat /sys/class/net/eth0/operstate)" = up ]', timeout=30)
        middle.wait_output(middle_link_up(BACKEND, 0), 30)
        assert middle.dead() is None, middle.dead()

        # Poll until the path answers at all (the backend may still be
        # setting up the rings when the guest is ready): single pings with a
        # 1 s deadline, for up to 30 s.
        try:
            tries = guest.poll(f"ping -c 1 -W 1 -q {PEER_IP} >/dev/null 2>&1",
                               timeout=30, interval=0.1)
        except GuestError as e:
            pytest.fail(f"{PEER_IP} never answered the guest: {e}" + describe(guest, middle, echo),
                        pytrace=False)
        record_property("warmup_failed_pings", tries)
        print(f"path answered after {tries} failed warm-up pings")

        rc, out = guest.run(f"ping -c 20 -i 0.2 {PEER_IP}", timeout=120)
        print(out.splitlines()[-2] if out else "(no ping output)")
        tx, rx, loss = parse_ping(out)
        assert (tx, rx, loss) == (20, 20, 0.0), \
            f"ping through {BACKEND} lost packets:\n{out}" + describe(guest, middle, echo)
        assert rc == 0
        assert middle.dead() is None, middle.dead()
        assert echo.dead() is None, echo.dead()
