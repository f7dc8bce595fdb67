# SPDX-License-Identifier: BSD-3-Clause
"""Live migration of a Linux guest networked by dpdk-vdevpeer (QEMU TCG, two
QEMU processes on this machine, migration over a unix socket with
``-incoming`` and QMP ``migrate``).

    guest A (source QEMU)      --- vp0 \\
                                       dpdk-vdevpeer --fwd bridge --- vp1 --- guest C
    guest A (destination QEMU) --- vp2 /

A pings C (a background ping that migrates with it) while C sends a file to
A over TCP; A is migrated from vp0 to vp2 in the middle of both. QEMU only
migrates a vhost-user device whose backend logs its writes (VHOST_F_LOG_ALL
with LOG_SHMFD); every byte we write into A's memory (the TCP stream's
frames, used rings) during the migration must be in the log, or the
destination's copy differs: the SHA-256 of what A received is the check.
The bridge moves A's MAC to vp2 on its first frame from there. Migration
time, downtime as QEMU reports it and pings lost are recorded
(record_property), not asserted.
"""

import contextlib
import os
import re
import signal
import time

import pytest

from lib.procs import APP, telemetry
from lib.qemu import Qmp, QemuGuest, middle_for, wait_for

pytestmark = pytest.mark.vdevpeer_only

IP_A, IP_C = "192.168.63.1", "192.168.63.3"
MAC_A = "52:54:00:63:00:01"
SIZE = 24 * 1024 * 1024


def boot(stack, tmp_path, kit, ring, devargs="", a_opts=""):
    """The middle (`devargs` on each port), guest C, guest A on the source
    QEMU (QMP on; `a_opts` added to A's virtio-net device on both sides),
    and the destination QEMU's arguments: (mid, prefix, src, gc, dst, qmp
    path of the source, migration socket). A and C can talk."""
    dev = "packed=on" if ring == "packed" else ""
    a_dev = ",".join(o for o in (dev, a_opts) if o)
    mid, (sa, sc, sa2), prefix = middle_for(stack, tmp_path, "mig", APP, ("A", "C", "A2"),
                                            devargs=devargs, app_args=["--fwd", "bridge"])
    mig = tmp_path / "mig.sock"
    qmp_src = tmp_path / "qmp-src.sock"
    src = QemuGuest(kit, sa, tmp_path, ip=f"{IP_A}/24", mac=MAC_A, name="a-src",
                    device_opts=a_dev, extra_args=["-qmp", f"unix:{qmp_src},server=on,wait=off"])
    gc = QemuGuest(kit, sc, tmp_path, ip=f"{IP_C}/24", mac="52:54:00:63:00:03",
                   name="c", device_opts=dev)
    dst = QemuGuest(kit, sa2, tmp_path, ip=f"{IP_A}/24", mac=MAC_A, name="a-dst",
                    device_opts=a_dev, extra_args=["-incoming", f"unix:{mig}"])
    for g in (src, gc, dst):
        stack.callback(g.close)
    src.start()
    gc.start()
    src.wait_ready(240)
    gc.wait_ready(240)
    src.poll(f"ping -c 1 -W 1 -q {IP_C} >/dev/null 2>&1", timeout=60, interval=0.2)
    return mid, prefix, src, gc, dst, qmp_src, mig


def start_migration(stack, dst, qmp_src, mig, bandwidth=None):
    """Start the destination and the migration to it (at most `bandwidth`
    bytes/s); the source's QMP connection."""
    dst.start()
    wait_for(lambda: mig.exists(), 60, "the destination listening for the state",
             alive=dst.dead)
    qmp = Qmp(qmp_src)
    stack.callback(qmp.close)
    if bandwidth:
        qmp.cmd("migrate-set-parameters", **{"max-bandwidth": bandwidth})
    qmp.cmd("migrate", uri=f"unix:{mig}")
    return qmp


def migrate(stack, mid, dst, qmp_src, mig, bandwidth=None):
    """start_migration, then wait for it; QEMU's query-migrate at the end."""
    qmp = start_migration(stack, dst, qmp_src, mig, bandwidth)
    info = {}

    def done():
        info.update(qmp.cmd("query-migrate"))
        if info.get("status") in ("failed", "cancelled"):
            raise AssertionError(f"migration {info.get('status')}: {info}\n{mid.tail(30)}")
        return info.get("status") == "completed"
    wait_for(done, 240, "migration completed", alive=mid.dead)
    return info


def tx_to(prefix, port):
    """Frames the middle wrote into the guest of port (its tx)."""
    return (telemetry(prefix, "/ethdev/stats,%d" % port) or {}).get("opackets", 0)


@pytest.mark.parametrize("ring,devargs", [("split", ""), ("packed", ""),
                                          ("split", ",zerocopy=on")],
                         ids=["split", "packed", "split-zerocopy"])
def test_live_migration(guest_kit, tmp_path, ring, devargs, record_property):
    """With zerocopy=on every frame A sends waits in A's memory until C's
    port has sent it, also while the source stops: nothing of a stopped
    guest may be sent after its rings were handed back, nothing lost."""
    with contextlib.ExitStack() as stack:
        mid, prefix, src, gc, dst, qmp_src, mig = boot(stack, tmp_path, guest_kit, ring,
                                                       devargs)

        # C sends a file to A (paced by TCP: it runs across the migration),
        # A pings C; both run in the background of A's migrating shell
        gc.check(f"dd if=/dev/urandom of=/tmp/f bs=65536 count={SIZE // 65536} 2>/dev/null")
        want = gc.check("sha256sum /tmp/f").split()[0]
        src.check("rm -f /tmp/r; (sleep 100000 | nc -l -p 5000 > /tmp/r 2>/dev/null &)")
        src.poll("netstat -ltn 2>/dev/null | grep -q ':5000 '", timeout=20)
        src.check(f"(ping -i 0.2 -s 1000 {IP_C} > /tmp/ping.log 2>&1 &)")
        gc.check(f"(nc {IP_A} 5000 < /tmp/f >/dev/null 2>&1 &)")
        src.poll("[ \"$(wc -c < /tmp/r)\" -ge 1048576 ]", timeout=60, interval=0.1)

        t0 = time.monotonic()
        info = migrate(stack, mid, dst, qmp_src, mig)
        secs = time.monotonic() - t0
        record_property("migration_seconds", round(secs, 2))
        record_property("downtime_ms", info.get("downtime"))
        print(f"\n[{ring}] migrated in {secs:.1f} s, downtime {info.get('downtime')} ms, "
              f"{info.get('ram', {}).get('transferred')} bytes")

        dst.adopt_shell()
        dst.poll(f"[ \"$(wc -c < /tmp/r)\" -ge {SIZE} ]", timeout=240, interval=0.2)
        got = dst.check("sha256sum /tmp/r").split()[0]
        assert got == want, f"A's copy differs after the migration\n{mid.tail(40)}"
        dst.poll(f"ping -c 1 -W 1 -q {IP_C} >/dev/null 2>&1", timeout=30, interval=0.2)
        dst.check("pkill ping; sleep 0.5; true")
        # a background ping ignores SIGINT: no summary; count the replies
        seqs = [int(n) for n in re.findall(r"seq=(\d+)", dst.check("cat /tmp/ping.log"))]
        assert seqs, "no ping answered"
        tx, rx = max(seqs) + 1, len(set(seqs))
        record_property("pings_lost", tx - rx)
        print(f"[{ring}] pings every 0.2 s: {tx} sent, {rx} answered, {tx - rx} lost")

        log = mid.output()
        assert re.search(r"vp0 \([^)]*\): dirty-page logging on", log), mid.tail(40)
        assert telemetry(prefix, "/ethdev/xstats,0").get("vmm_dirty_log_starts", 0) >= 1
        if devargs:
            # A's frames (its ACKs, pings) went zero-copy on both sides, and
            # nothing of the source stayed held after it stopped
            for port in (0, 2):
                xs = telemetry(prefix, "/ethdev/xstats,%d" % port)
                assert xs.get("rx_zc_frames", 0) > 0, (port, xs)
            wait_for(lambda: telemetry(prefix, "/ethdev/xstats,0").get("rx_zc_inflight") == 0,
                     10, "no buffer of the source held")
        assert mid.dead() is None


def bridge_port_of(prefix, mac):
    """The port the bridge has `mac` on (None: not learned)."""
    for e in telemetry(prefix, "/vdevpeer/bridge/macs") or []:
        f = e.split()
        if f[0] == mac:
            return int(f[1])
    return None


def bridge_moved(prefix, port):
    st = telemetry(prefix, "/vdevpeer/bridge/stats") or {}
    return next((v["moved"] for v in st.values() if isinstance(v, dict) and v["port"] == port), 0)


@pytest.mark.parametrize("announce", ["guest", "rarp"])
def test_migrated_guest_is_found_at_once(guest_kit, tmp_path, announce):
    """A sends nothing after the migration: the network finds it on its
    new port only through an announce. `guest`: A acked GUEST_ANNOUNCE
    (offered by default), QEMU asks A's driver to announce itself and its
    gratuitous ARP moves the MAC. `rarp`: A's device has guest_announce=off,
    QEMU asks the backend (VHOST_USER_SEND_RARP) and we receive a RARP from
    A's MAC on its new port. Either way the bridge has A on vp2 without
    any traffic of A's own, and C reaches A at once. Without an announce the bridge
    keeps A on the source's port, now down, and C's frames to A are lost
    until A happens to send (or the entry ages out)."""
    with contextlib.ExitStack() as stack:
        mid, prefix, src, gc, dst, qmp_src, mig = boot(
            stack, tmp_path, guest_kit, "split",
            a_opts="guest_announce=off" if announce == "rarp" else "")
        # silence: C never probes its ARP entry of A (Linux would 5 s
        # after its last reply, and the bridge floods a frame for a MAC on
        # a port that is down: the probe would find A by itself), A has no
        # IPv6 (it sends on its own after a migration: checked, a handful
        # of frames within seconds, which would find it too)
        src.check("echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "
                  "echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6")
        for g in (gc, src):
            g.check("echo 3600 > /proc/sys/net/ipv4/neigh/eth0/delay_first_probe_time;"
                    " ip neigh flush dev eth0")
        src.check(f"ping -c 1 -W 2 -q {IP_C} >/dev/null")
        assert bridge_port_of(prefix, MAC_A) == 0
        log = mid.output()
        ready = re.findall(r"vp0 \([^)]*\): guest ready: .*negotiated 0x[0-9a-f]+ \(([^)]*)\)", log)
        assert ready and ("GUEST_ANNOUNCE" in ready[-1].split()) == (announce == "guest"), ready
        moved0 = bridge_moved(prefix, 2)
        migrate(stack, mid, dst, qmp_src, mig)
        wait_for(lambda: bridge_port_of(prefix, MAC_A) == 2, 20,
                 "the bridge has A's MAC on vp2 (announced)", alive=mid.dead)
        assert bridge_moved(prefix, 2) >= moved0 + 1
        xs = telemetry(prefix, "/ethdev/xstats,2")
        if announce == "rarp":
            # QEMU announces a few times (announce-rounds); every frame the
            # port received so far is one of our RARPs: A sent nothing
            assert xs.get("vmm_rarp_requests", 0) >= 1, xs
            assert 1 <= xs.get("vmm_rarp_sent", 0) <= xs["vmm_rarp_requests"], xs
            wait_for(lambda: (lambda x: x["rx_good_packets"] == x["vmm_rarp_sent"])(
                telemetry(prefix, "/ethdev/xstats,2")), 10, "vp2 received only RARPs")
            assert re.search(r"vp2 \([^)]*\): announcing 52:54:00:63:00:01 with a RARP",
                             mid.output()), mid.tail(30)
        else:
            assert xs.get("vmm_rarp_requests", 0) == 0, xs
        out = gc.check(f"ping -c 3 -i 0.2 -W 2 {IP_A}")
        assert " 0% packet loss" in out, out
        assert mid.dead() is None


@pytest.mark.parametrize("ring", ["split", "packed"])
def test_migration_keeps_frames_waiting_in_the_ring(guest_kit, tmp_path, ring):
    """A's eth0 is down (its driver reads nothing; the RX buffers stay
    posted) while C pings it: the backend writes each request into A's RX
    ring, where it waits, and only the dirty log tells QEMU that those
    pages (buffers, used ring) changed after it copied them. After the
    migration A's eth0 comes up on the destination and its driver must
    find every frame we wrote during the migration, valid (its stack takes
    each echo request). Without logging, the destination's ring does not
    show them on packed rings (checked: the packed case fails with logging
    disabled in the PMD); on split rings QEMU marks the used ring dirty
    itself when it stops the device, and the small requests land in pages
    this test cannot tell apart: test/test_log.c is the exact check."""
    with contextlib.ExitStack() as stack:
        mid, prefix, src, gc, dst, qmp_src, mig = boot(stack, tmp_path, guest_kit, ring)
        # echo requests A's stack took (valid frames: a buffer the
        # destination got stale fails its checksums)
        echos = ("awk '/^Icmp:/ && !h {for (i = 1; i <= NF; i++) if ($i == \"InEchos\") c = i;"
                 " h = 1; next} /^Icmp:/ {print $c; exit}' /proc/net/snmp")
        e0 = int(src.check(echos))
        src.check("ip link set eth0 down")
        w0 = tx_to(prefix, 0)
        # requests all through a slowed migration (~4 s): most are written
        # after QEMU copied the ring's pages the first time
        gc.check(f"(ping -i 0.05 -c 200 {IP_A} >/dev/null 2>&1 &)")
        wait_for(lambda: tx_to(prefix, 0) - w0 >= 2, 30, "requests written into A's ring")
        migrate(stack, mid, dst, qmp_src, mig, bandwidth=30 << 20)
        gc.check("pkill ping; true")   # only the frames in A's ring count
        written = tx_to(prefix, 0) - w0
        dst.adopt_shell()
        dst.check("ip link set eth0 up")
        dst.poll(f"[ $(( $({echos}) - {e0} )) -ge {written} ]", timeout=30, interval=0.2)
        print(f"\n[{ring}] {written} requests written while A's eth0 was down, "
              f"{int(dst.check(echos)) - e0} taken by its stack after the migration")


@pytest.mark.parametrize("how", ["cancelled", "destination-killed"])
def test_failed_migration_leaves_the_source_working(guest_kit, tmp_path, how):
    """A migration that does not finish, on a migration slowed to 1 MiB/s:
    cancelled half-way (QMP migrate_cancel), or failed because the
    destination QEMU died (SIGKILL) half-way. The source guest keeps
    running on its port, logging is turned off again, A and C still
    talk."""
    with contextlib.ExitStack() as stack:
        mid, prefix, src, gc, dst, qmp_src, mig = boot(stack, tmp_path, guest_kit, "split")
        q = start_migration(stack, dst, qmp_src, mig, bandwidth=1 << 20)
        wait_for(lambda: re.search(r"vp0 \([^)]*\): dirty-page logging on", mid.output()),
                 30, "logging on", alive=mid.dead)
        if how == "cancelled":
            q.cmd("migrate_cancel")
        else:
            os.kill(dst.child.pid, signal.SIGKILL)
        wait_for(lambda: q.cmd("query-migrate").get("status") ==
                 ("cancelled" if how == "cancelled" else "failed"), 60, f"migration {how}")
        wait_for(lambda: re.search(r"vp0 \([^)]*\): dirty-page logging off", mid.output()),
                 30, "logging off again", alive=mid.dead)
        src.poll(f"ping -c 1 -W 1 -q {IP_C} >/dev/null 2>&1", timeout=30, interval=0.2)
        out = src.check(f"ping -c 5 -i 0.2 -W 1 {IP_C}")
        assert " 0% packet loss" in out, out
        assert bridge_port_of(prefix, MAC_A) == 0
        assert mid.dead() is None
