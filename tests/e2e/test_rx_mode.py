# SPDX-License-Identifier: BSD-3-Clause
"""Rx modes (--rx-mode poll|adaptive|interrupt): the worker sleeps on the
guests' kicks when idle and loses nothing across sleeping and waking.

Guests are perf/vdp-guestgen (its --ping: single numbered frames, one at a
time, with idle gaps longer than the adaptive quiet period, so each frame
finds the worker asleep), stock testpmd (silent guests, traffic while the
mode changes on the console) and Linux guests under QEMU (a ping after 10 s
of silence). The idle CPU of the app is reported (record_property), not
asserted.
"""

import contextlib
import os
import re
import time

import pytest

from lib import procs as P
from lib.procs import Guest, PortSpec
from test_console import Console, rising, vdev

pytestmark = pytest.mark.vdevpeer_only


def lcores(prefix):
    """The workers' counters (/vdevpeer/fwd/lcores), lcore name -> dict."""
    t = P.telemetry(prefix, "/vdevpeer/fwd/lcores") or {}
    return {k: v for k, v in t.items() if k.startswith("lcore")}


def total(prefix, key):
    return sum(v.get(key, 0) for v in lcores(prefix).values())


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@pytest.mark.parametrize("mode,ring", [
    ("poll", "split"), ("adaptive", "split"), ("interrupt", "split"),
    ("adaptive", "packed"), ("interrupt", "packed"),
])
def test_frames_after_idle(procs, middle, mode, ring):
    """150 numbered frames, 3 ms apart (the quiet period is 0.5 ms): each
    arrives, once, in order. In a sleeping mode the worker slept before
    (nearly) every one of them and a kick woke it each time: no frame
    waited for the safety timeout (late_wakeups). Packed rings: the device
    event area in ENABLE mode (DPDK's virtio_user does not use EVENT_IDX)."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = middle([PortSpec(a), PortSpec(b)], kind="vdevpeer",
               app_args=["--rx-mode", mode]).start()
    _, s = P.run_guestgen(procs, a, b, ["--no-huge", "-m", "512"],
                          ["--size", "64", "--ping", "150", "--gap-us", "3000", "--check"],
                          devargs="packed_vq=1" if ring == "packed" else "")
    assert s["received"] == 150 and s["lost"] == 0 and s["late"] == 0, s
    assert s["out_of_order"] == 0 and s["bad_pattern"] == 0, s
    w = lcores(m.proc.prefix)
    sleeps, wakeups = total(m.proc.prefix, "sleeps"), total(m.proc.prefix, "wakeups")
    print("\n[%s %s] latency p50 %.1f us p99 %.1f us; %d sleeps, %d wake-ups" % (
        mode, ring, s["lat_us_p50"], s["lat_us_p99"], sleeps, wakeups))
    if mode == "poll":
        assert sleeps == 0, w
        return
    assert sleeps >= 140 and wakeups >= 140, w
    assert total(m.proc.prefix, "late_wakeups") == 0, w
    assert all(v["rx_mode"] == mode and v["polls_anyway"] == 0 for v in w.values()), w


def test_silent_guests_let_the_worker_sleep(procs, middle, record_property):
    """Two connected testpmd guests that send nothing, --rx-mode adaptive:
    the worker sleeps most of the time; the app's CPU over 3 s is reported.
    Then one guest sends: the frames arrive at the other."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = middle([PortSpec(a), PortSpec(b)], kind="vdevpeer",
               app_args=["--rx-mode", "adaptive"]).start()
    gb = Guest(procs, "B", b).start()
    ga = Guest(procs, "A", a).start()
    for s in (a, b):
        m.wait_ready(s)
    pid = m.proc.pid
    c0, t0, w0 = cpu_ticks(pid), time.monotonic(), lcores(m.proc.prefix)
    time.sleep(3)   # the measurement window itself
    c1, t1, w1 = cpu_ticks(pid), time.monotonic(), lcores(m.proc.prefix)
    pct = 100.0 * (c1 - c0) / os.sysconf("SC_CLK_TCK") / (t1 - t0)
    record_property("idle_cpu_pct", round(pct, 2))
    print("\napp CPU with 2 silent guests, adaptive: %.2f%% of one CPU" % pct)
    for k in w1:
        asleep = w1[k]["asleep_cycles"] - w0[k]["asleep_cycles"]
        cycles = w1[k]["cycles"] - w0[k]["cycles"]
        assert cycles > 0 and asleep / cycles > 0.5, (k, w0[k], w1[k])
    assert ga.stop() == 0
    ga = Guest(procs, "A2", a, fwd="txonly").start()
    gb.wait_counter(0, "RX-packets", 1000, timeout=60)
    assert ga.stop() == 0 and gb.stop() == 0


def test_mode_changes_under_traffic(procs, request, app):
    """On the console while a guest floods: set rx-mode interrupt, adaptive,
    poll, and per port; frames keep flowing after each change. The flood
    stops: the worker goes to sleep (its sleeps rise); it starts again: the
    worker wakes and forwards. show config fwd shows the modes."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    con = Console(procs, request, [vdev(0, a, "vp0"), vdev(1, b, "vp1")], ["--auto-start"])
    rx = Guest(procs, "rx1", b, fwd="rxonly").start()
    tx = Guest(procs, "tx0", a, fwd="txonly").start()
    rising(con.prefix, 1, "opackets")
    for line, want in (("set rx-mode interrupt", r"Rx mode interrupt on every port"),
                       ("set rx-mode adaptive", r"Rx mode adaptive on every port"),
                       ("set rx-mode poll vp1", r"Port 1 \(vp1\): rx mode poll"),
                       ("set rx-mode poll", r"Rx mode poll on every port"),
                       ("set rx-mode interrupt vp0", r"Port 0 \(vp0\): rx mode interrupt"),
                       ("set rx-mode adaptive", r"Rx mode adaptive on every port")):
        con.cmd(line, want)
        rising(con.prefix, 1, "opackets")
    con.cmd("set rx-mode sometimes", r"Bad arguments")
    out = con.cmd("show config fwd", r"rx mode adaptive \(adaptive sleeps after 500 us")
    assert re.search(r"lcore 1: adaptive, \d+ sleeps", out), out
    assert tx.stop() == 0
    s0 = total(con.prefix, "sleeps")
    P.wait_until(lambda: total(con.prefix, "sleeps") > s0 + 3, 20, "the worker sleeping")
    tx = Guest(procs, "tx0b", a, fwd="txonly").start()
    rising(con.prefix, 1, "opackets")
    assert total(con.prefix, "wakeups") > 0
    assert tx.stop() == 0 and rx.stop() == 0


def test_port_without_rx_interrupts_keeps_polling(procs):
    """A net_null port (no rx interrupts) paired with a guest port in
    adaptive mode: its worker says once that it keeps polling, and polls."""
    a = procs.sock("a.sock")
    pfx = procs.new_prefix("null")
    argv = ([P.APP] + P.EAL_COMMON + ["-m", "512", "--file-prefix", pfx] + P.MIDDLE_LCORES
            + ["--vdev", vdev(0, a, "vp0"), "--vdev", "net_null0", "--", "--fwd", "io",
               "--rx-mode", "adaptive", "--stats-period", "1"])
    mid = procs.start("mid", argv, prefix=pfx)
    mid.wait_log(r"lcore 1 keeps polling \(rx mode adaptive\): port net_null0 has no rx "
                 r"interrupts", 30)
    mid.wait_log(r"lcore 1: busy [\d.]+% of its cycles.*adaptive: asleep 0\.0%, 0 sleeps "
                 r"\(polls: a port cannot sleep\)", 30)
    assert total(pfx, "sleeps") == 0
    assert mid.stop() == 0


def test_bad_rx_mode(procs, app):
    """A mode that does not exist, on the command line and as a port's
    rx_mode in a config file: a usage error naming it."""
    from test_app_cli import run_app
    eal = ["--vdev", "net_null0", "--vdev", "net_null1"]
    rc, out = run_app(procs, app, eal, ["--rx-mode", "sometimes"])
    assert rc == 2 and re.search(r"--rx-mode: bad value 'sometimes': expected poll, "
                                 r"adaptive or interrupt", out), out[-1500:]
    cfg = procs.file("rxmode.ini")
    with open(cfg, "w") as f:
        f.write("[port n0]\ndevargs = net_null0\nrx_mode = often\n"
                "[port n1]\ndevargs = net_null1\n")
    rc, out = run_app(procs, app, [], ["--config", cfg])
    assert rc == 2 and re.search(r"\[port n0\] rx_mode.*often.*expected poll, adaptive or "
                                 r"interrupt", out), out[-1500:]


@pytest.mark.parametrize("mode,ring", [("adaptive", "split"), ("interrupt", "packed")])
def test_linux_guests_after_silence(guest_kit, tmp_path, mode, ring):
    """Two Linux guests (QEMU TCG; split rings with EVENT_IDX: the
    avail_event path; packed=on: the device event area in DESC mode): a
    ping, 10 s of silence during which the worker sleeps, then pings again,
    none lost."""
    from lib.qemu import QemuGuest, middle_for_two
    dev = "packed=on" if ring == "packed" else ""
    with contextlib.ExitStack() as stack:
        mid, sa, sb, prefix = middle_for_two(stack, tmp_path, "rxm", P.APP, "",
                                             ["--rx-mode", mode])
        ga = QemuGuest(guest_kit, sa, tmp_path, ip="192.168.64.1/24", mac="52:54:00:64:00:01",
                       name="a", device_opts=dev)
        gb = QemuGuest(guest_kit, sb, tmp_path, ip="192.168.64.2/24", mac="52:54:00:64:00:02",
                       name="b", device_opts=dev)
        for g in (ga, gb):
            stack.callback(g.close)
            g.start()
        for g in (ga, gb):
            g.wait_ready(240)
        ga.poll("ping -c 1 -W 1 -q 192.168.64.2 >/dev/null 2>&1", timeout=60, interval=0.2)
        s0 = total(prefix, "sleeps")
        time.sleep(10)   # the silence under test
        assert total(prefix, "sleeps") > s0, lcores(prefix)
        out = ga.check("ping -c 5 -i 0.3 -W 2 192.168.64.2")
        assert " 0% packet loss" in out, out
        assert total(prefix, "late_wakeups") == 0, lcores(prefix)
