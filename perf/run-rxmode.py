#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Rx modes (--rx-mode poll|adaptive|interrupt): what sleeping saves and
what it costs.

For each mode, in rounds (the modes take turns, round by round: this host
changes speed over minutes):

  idle     dpdk-vdevpeer with --guests ports, each with a connected guest
           that sends nothing (one stock testpmd, rxonly, one virtio_user
           port per socket); the CPU the app used over --idle-sec seconds
           (utime + stime of the process, /proc), in % of one CPU.
  latency  vdp-guestgen --ping: single 64-byte frames guest A -> app -> guest
           B, one at a time, --gap-us apart (longer than the adaptive quiet
           period: each frame finds the worker asleep); one-way latency,
           median and p99 in us.

Saturation (frames/s with a sleeping mode against poll, same run) is
perf/run-e2e.py's job:

    python3 perf/run-e2e.py --backends vdevpeer,vdevpeer-poll --rounds 3 \\
        --sizes 64,1518 --tso-size 0 --out /tmp/rxmode-sat.md

    python3 perf/run-rxmode.py [--rounds 3] [--guests 4] [--idle-sec 10]
                               [--pings 1000] [--gap-us 2000]
                               [--out docs/benchmarks-rxmode.md]

Everything started here has its own --file-prefix, is stopped by PID and
cleaned up (sockets, DPDK runtime directories), also when a run fails.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
from dpdk_runtime import telemetry  # noqa: E402
from proc import Proc, wait_until  # noqa: E402

MODES = ("poll", "adaptive", "interrupt")
EAL = ["--no-pci", "--no-huge", "-m", "512", "--log-level", "lib.eal:notice"]
GUEST_DEVARGS = "queues=1,queue_size=1024,mrg_rxbuf=1"


def log(msg):
    print(msg, flush=True)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # utime, stime


def start_app(args, workdir, tag, mode, nports):
    socks = [os.path.join(workdir, "%s-%d.sock" % (tag, i)) for i in range(nports)]
    prefix = "vdp-rxm-%d-%s" % (os.getpid(), tag)
    argv = [args.app] + EAL + ["-l", "0,1", "--file-prefix", prefix]
    for i, s in enumerate(socks):
        argv += ["--vdev", "net_vdevpeer%d,peer=%s,server=1,bind=vp%d" % (i, s, i)]
    argv += ["--", "--fwd", "io", "--stats-period", "0", "--rx-mode", mode]
    app = Proc("dpdk-vdevpeer", argv, os.path.join(workdir, tag + "-app.log"), prefix=prefix)
    wait_until(lambda: all(os.path.exists(s) for s in socks), 20, "the app's sockets",
               fail_if=app.died_msg)
    return app, socks, prefix


def idle_run(args, workdir, tag, mode):
    app, socks, prefix = start_app(args, workdir, tag, mode, args.guests)
    guest = None
    try:
        gp = "vdp-rxm-%d-%s-g" % (os.getpid(), tag)
        argv = [args.testpmd] + EAL + ["--lcores", "0@0,1@0", "--file-prefix", gp]
        for i, s in enumerate(socks):
            argv += ["--vdev", "net_virtio_user%d,path=%s,%s" % (i, s, GUEST_DEVARGS)]
        argv += ["--", "--forward-mode=rxonly", "--total-num-mbufs=16384", "--stats-period", "0"]
        guest = Proc("testpmd", argv, os.path.join(workdir, tag + "-guest.log"), prefix=gp)
        wait_until(lambda: app.count(r"Link up") >= args.guests, 60, "every port up",
                   fail_if=lambda: app.died_msg() or guest.died_msg())
        time.sleep(1)   # let set-up settle (not a synchronisation: a warm-up)
        t0, c0 = time.monotonic(), cpu_ticks(app.pid)
        time.sleep(args.idle_sec)
        t1, c1 = time.monotonic(), cpu_ticks(app.pid)
        lc = telemetry(prefix, "/vdevpeer/fwd/lcores")
        pct = 100.0 * (c1 - c0) / os.sysconf("SC_CLK_TCK") / (t1 - t0)
        sleeps = sum(v.get("sleeps", 0) for k, v in lc.items() if k.startswith("lcore"))
        return {"cpu_pct": pct, "sleeps": sleeps}
    finally:
        if guest is not None:
            guest.stop()
        app.stop()
        for s in socks:
            if os.path.exists(s):
                os.unlink(s)


def latency_run(args, workdir, tag, mode):
    app, socks, prefix = start_app(args, workdir, tag, mode, 2)
    gg = None
    try:
        gp = "vdp-rxm-%d-%s-gg" % (os.getpid(), tag)
        argv = [args.guestgen] + EAL + ["--lcores", "0@0", "--file-prefix", gp,
                                        "--vdev", "net_virtio_user0,path=%s,%s" % (socks[0], GUEST_DEVARGS),
                                        "--vdev", "net_virtio_user1,path=%s,%s" % (socks[1], GUEST_DEVARGS),
                                        "--", "--size", "64", "--ping", str(args.pings),
                                        "--gap-us", str(args.gap_us), "--check"]
        gg = Proc("vdp-guestgen", argv, os.path.join(workdir, tag + "-gg.log"), prefix=gp)
        rc = gg.wait(args.pings * (args.gap_us / 1e6 + 0.01) + 120)
        out = gg.log()
        if rc != 0 or "SUMMARY " not in out:
            raise RuntimeError("vdp-guestgen failed (%s):\n%s" % (rc, gg.tail(20)))
        s = json.loads(out.split("SUMMARY ", 1)[1].splitlines()[0])
        lc = telemetry(prefix, "/vdevpeer/fwd/lcores")
        w = [v for k, v in lc.items() if k.startswith("lcore")]
        s["sleeps"] = sum(v.get("sleeps", 0) for v in w)
        s["late_wakeups"] = sum(v.get("late_wakeups", 0) for v in w)
        return s
    finally:
        if gg is not None and gg.alive():
            gg.stop()
        app.stop()
        for s in socks:
            if os.path.exists(s):
                os.unlink(s)


def spread(vals, fmt):
    if not vals:
        return "–"
    if len(vals) == 1:
        return fmt % vals[0]
    return (fmt + " [" + fmt + "–" + fmt + "]") % (statistics.median(vals), min(vals), max(vals))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--guests", type=int, default=4, help="silent guests in the idle run")
    ap.add_argument("--idle-sec", type=float, default=10.0)
    ap.add_argument("--pings", type=int, default=1000)
    ap.add_argument("--gap-us", type=int, default=2000)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks-rxmode.md"))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    args.app = os.path.join(args.build, "app", "dpdk-vdevpeer")
    args.guestgen = os.path.join(args.build, "perf", "vdp-guestgen")
    args.testpmd = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
    modes = args.modes.split(",")
    workdir = tempfile.mkdtemp(prefix="vdp-rxm-")
    res = {m: {"idle": [], "lat": []} for m in modes}
    try:
        for r in range(args.rounds):
            order = modes[r % len(modes):] + modes[:r % len(modes)]
            for m in order:
                tag = "r%d-%s" % (r, m)
                i = idle_run(args, workdir, tag + "-idle", m)
                log("round %d %-9s idle: app CPU %.2f%% of one CPU (%d sleeps)"
                    % (r, m, i["cpu_pct"], i["sleeps"]))
                res[m]["idle"].append(i)
                s = latency_run(args, workdir, tag + "-lat", m)
                log("round %d %-9s ping: p50 %.1f us, p99 %.1f us, max %.1f us, lost %d, "
                    "late wake-ups %d" % (r, m, s["lat_us_p50"], s["lat_us_p99"],
                                          s["lat_us_max"], s["lost"], s["late_wakeups"]))
                res[m]["lat"].append(s)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = ["# Rx modes: idle CPU and wake-up latency", "",
             "Generated by `python3 perf/run-rxmode.py --rounds %d --guests %d --idle-sec %g "
             "--pings %d --gap-us %d` on %s (%d CPUs). Each cell: median [min–max] over the "
             "rounds; the modes take turns round by round."
             % (args.rounds, args.guests, args.idle_sec, args.pings, args.gap_us,
                datetime.date.today().isoformat(), os.cpu_count()), "",
             "| rx mode | app CPU, %d silent guests (%% of one CPU) | one-way latency after "
             "%d us idle, p50 (us) | p99 (us) | frames lost |" % (args.guests, args.gap_us),
             "|---|---|---|---|---|"]
    for m in modes:
        idle = [x["cpu_pct"] for x in res[m]["idle"]]
        lat = res[m]["lat"]
        lines.append("| %s | %s | %s | %s | %d |" % (
            m, spread(idle, "%.2f"), spread([x["lat_us_p50"] for x in lat], "%.1f"),
            spread([x["lat_us_p99"] for x in lat], "%.1f"), sum(x["lost"] for x in lat)))
    lines += ["", "Idle: dpdk-vdevpeer (`-l 0,1`, main lcore 0, one worker on CPU 1) with "
              "%d net_vdevpeer ports, one stock dpdk-testpmd (rxonly) with a virtio_user port "
              "on each socket (`%s`) sending nothing; the app's utime + stime over %g s. "
              "Latency: vdp-guestgen `--ping %d --gap-us %d --size 64` (guest devargs `%s`), "
              "one frame at a time from its port 0 through the app (`--fwd io`) to its port 1; "
              "the time from tx_burst to rx_burst seeing it, on the generator's TSC."
              % (args.guests, GUEST_DEVARGS, args.idle_sec, args.pings, args.gap_us,
                 GUEST_DEVARGS), ""]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    log("wrote " + args.out)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    main()
