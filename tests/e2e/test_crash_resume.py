# SPDX-License-Identifier: BSD-3-Clause
"""The backend crashes under traffic and comes back: a real Linux guest's
network resumes by itself, on split and on packed rings, with QEMU as the
vhost-user client (reconnect=1, our port listens) and as the server (our
port connects), ten crashes in a row.

    QEMU Linux guest 192.168.70.2 (virtio-net, packed=on|off)
      ⇄ socket A ⇄ dpdk-vdevpeer vp0 ⇄ io ⇄ vp1 ⇄ socket B
      ⇄ Debian's testpmd, net_virtio_user0 server=1, --forward-mode=icmpecho

Each round: SIGKILL to dpdk-vdevpeer while the guest pings once a second,
the same command line again, and the guest's single pings must be
answered again within RECOVER_S seconds. QEMU cannot ask a dead backend
where its rings were: for a packed ring its fallback is the position it
last knew (the ring's start), so without the ring state the killed
process left (drivers/net/vdevpeer/vdevpeer_state.c) the guest's network
never comes back; the test also checks that the middle resumed its rings
from that state (log line, vmm_rings_resumed).
"""

import contextlib
import itertools
import os
import re
import tempfile
import time
from pathlib import Path

import pytest

from lib.qemu import UNIX_PATH_MAX, GuestError, Proc, QemuGuest, wait_for
from lib.procs import APP, TESTPMD
import dpdk_runtime

pytestmark = pytest.mark.vdevpeer_only

CRASHES = int(os.environ.get("VDP_CRASHES", "10"))
RECOVER_S = 10     # answered pings again within this after the restart
GUEST_IP, PEER_IP = "192.168.70.2", "192.168.70.1"
_seq = itertools.count(1)



def middle_argv(prefix, sock_a, sock_b, a_listens):
    return [str(APP), "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix,
            "-l", "0,1",
            "--vdev", f"net_vdevpeer0,peer={sock_a},server={int(a_listens)},bind=vp0",
            "--vdev", f"net_vdevpeer1,peer={sock_b},server=0,bind=vp1",
            "--", "--fwd", "io", "--stats-period", "1"]


@pytest.mark.parametrize("layout", ["split", "packed"])
@pytest.mark.parametrize("qemu_role", ["client", "server"])
def test_backend_crash_resume(guest_kit, tmp_path, layout, qemu_role, record_property):
    sockdir = tmp_path
    if len(str(sockdir / "A.sock")) > UNIX_PATH_MAX - 8:
        sockdir = Path(tempfile.mkdtemp(prefix="vdp-cr-"))
    sock_a, sock_b = sockdir / "A.sock", sockdir / "B.sock"
    n = next(_seq)
    with contextlib.ExitStack() as stack:
        for s in (sock_a, sock_b):
            stack.callback(lambda s=s: s.exists() and s.unlink())
        # a killed middle leaves its rings' state behind: ours to remove
        stack.callback(dpdk_runtime.remove_state_files, str(sockdir))

        eprefix = f"vdp-cr-{os.getpid()}-{n}-echo"
        echo = Proc([TESTPMD, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", eprefix,
                     "--lcores", "0@0,1@0",
                     "--vdev", f"net_virtio_user0,path={sock_b},server=1",
                     "--", "--forward-mode=icmpecho", "--auto-start", "--stats-period", "1",
                     "--total-num-mbufs", "8192"],
                    tmp_path / "icmpecho.log", name="testpmd icmpecho", dpdk_prefix=eprefix)
        stack.callback(echo.stop)
        wait_for(lambda: sock_b.exists(), 30, "the echo guest's socket", alive=echo.dead)

        guest = QemuGuest(guest_kit, sock_a, tmp_path, ip=f"{GUEST_IP}/24",
                          mac="52:54:00:70:00:02", role=qemu_role, name="linux-guest",
                          device_opts="packed=on" if layout == "packed" else "packed=off",
                          chardev_opts="reconnect=1" if qemu_role == "client" else "")
        mprefix = f"vdp-cr-{os.getpid()}-{n}-mid"
        argv = middle_argv(mprefix, sock_a, sock_b, a_listens=qemu_role == "client")
        mids = []

        def start_middle(i):
            m = Proc(argv, tmp_path / f"middle-{i}.log", name=f"dpdk-vdevpeer #{i}",
                     dpdk_prefix=mprefix)
            stack.callback(m.stop)
            mids.append(m)
            return m

        if qemu_role == "client":
            mid = start_middle(0)
            wait_for(lambda: sock_a.exists(), 30, "the middle's socket A", alive=mid.dead)
            stack.callback(guest.close)
            guest.start()
        else:
            stack.callback(guest.close)
            guest.start()
            guest.wait_socket(30)
            mid = start_middle(0)
        guest.wait_ready(180)
        mid.wait_output(r"vp0 \([^)]*\): guest ready", 60)
        mid.wait_output(r"vp1 \([^)]*\): guest ready", 60)
        guest.poll(f"ping -c 1 -W 1 -q {PEER_IP} >/dev/null 2>&1", timeout=30, interval=0.1)
        if layout == "packed":
            bits = guest.check("cat /sys/class/net/eth0/device/features")
            assert bits[34] == "1", f"the guest did not negotiate packed rings: {bits}"
        # traffic while it crashes: one ping a second
        guest.check(f"(ping -i 1 {PEER_IP} > /tmp/bg-ping.log 2>&1 &)")

        recover = []
        for i in range(1, CRASHES + 1):
            mid.kill()
            mid.wait(10)
            time.sleep(0.5)   # the guest's pings meet a dead backend
            t0 = time.monotonic()
            mid = start_middle(i)
            try:
                guest.poll(f"ping -c 1 -W 1 -q {PEER_IP} >/dev/null 2>&1",
                           timeout=RECOVER_S, interval=0.1)
            except GuestError as e:
                pytest.fail(f"crash {i}: no answer within {RECOVER_S} s of the restart: {e}"
                            f"\n--- middle ---\n{mid.tail(40)}"
                            f"\n--- echo ---\n{echo.tail(10)}", pytrace=False)
            recover.append(time.monotonic() - t0)
            log = mid.output()
            # the QEMU guest's rings came back from the state, not from QEMU
            assert re.search(r"vp0 \([^)]*\): vring 0 resumed where the earlier process left", log), \
                f"crash {i}: vp0's rings not resumed from the saved state\n{mid.tail(40)}"
            assert "ring no longer trusted" not in log, mid.tail(40)
            assert echo.dead() is None, echo.dead()
        record_property("recover_seconds_max", round(max(recover), 2))
        print(f"\n[{layout}/{qemu_role}] {CRASHES} crashes, back after "
              f"{min(recover):.1f}..{max(recover):.1f} s")
        guest.run("kill %1 2>/dev/null; pkill ping", timeout=10)
