#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end throughput: net_vdevpeer against DPDK's net_vhost.

For each backend and frame size, one run:

  vdp-guestgen (CPU 0)                dpdk-vdevpeer (worker on CPU 1)
    virtio_user0 --tx--> A.sock --> port 0 --io fwd--> port 1
    virtio_user1 <--rx-- B.sock <----------------------'

The backend's two ports listen on A.sock and B.sock; the generator is the
guest on both. The figure reported is the frame rate received by the guest
on B, median and min/max over the measured periods (one warm-up period is
dropped). All backends run in the same app binary, with the same lcores and
the same guest devargs.

    python3 perf/run-e2e.py [--sizes 64,256,1518,9000] [--periods 5]
                            [--period-sec 2] [--out docs/benchmarks.md]

Everything started here has its own --file-prefix, is stopped by PID
(SIGINT, then SIGTERM, then SIGKILL) and cleaned up (sockets, its DPDK
runtime directory) even when a run fails. Orchestration is here; the
processes are tests/pylib/proc.py's (shared with the end-to-end tests), the
CPU placement and load checks, the report and the plot are in perf/e2e/.
"""

import argparse
import datetime
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the process wrapper, wait helper and telemetry client the tests use too
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
# placement, report and plot (perf/e2e/)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dpdk_runtime import telemetry  # noqa: E402
from huge import HugeUnavailable, hugetlbfs  # noqa: E402
from proc import Proc, wait_until  # noqa: E402
from e2e.common import (APP_EXTRA_ARGS, APP_LCORES, BACKENDS, DEFAULT_BACKENDS,  # noqa: E402
                        GUEST_TESTPMD_LCORES, HUGE_PAGES, RINGS, WORKLOADS,
                        GUEST_LCORES, STOP_TIMEOUT, VDEVPEER_DEVARGS, VHOST_TSO_DEVARGS,
                        RunError, eal_common, guest_devargs, log)
from e2e.placement import (check_placement, foreign_load, proc_cpu_ticks,  # noqa: E402
                           task_ticks, verify_running_placement, wait_quiet)
from e2e.plot import make_plot  # noqa: E402
from e2e.report import (fmt_mpps, machine, merge_rounds, print_table,  # noqa: E402
                        table_rows, write_markdown)


# ------------------------------------------------------------- processes

class Child(Proc):
    """A child of the runner (tests/pylib/proc.py): its output in log_path
    and, line by line, in the queue self.lines; in the runner's session
    (Ctrl-C reaches it too); stopped by PID (SIGINT, then SIGTERM, then
    SIGKILL, each escalation logged) and its runtime dir removed."""

    def __init__(self, name, argv, log_path, prefix):
        super().__init__(name, argv, log_path, prefix=prefix, cwd=ROOT, new_session=False,
                         lines=True, note=lambda msg: log("  " + msg))

    def tail(self, n=15, skip_blank=False):
        return super().tail(n, skip_blank)

    def stop(self, sig=signal.SIGINT, timeout=STOP_TIMEOUT):
        return super().stop(sig, timeout)


# ----------------------------------------------------------------- a run

# a fill (frames in a busy round) shown when it is at least this share of
# the busy rounds
FILL_MIN_PCT = 5.0


def worker_cycles(prefix):
    """(tsc_hz, cycles, busy_cycles, frames, busy_rounds, fill) summed over
    the app's workers (/vdevpeer/fwd/lcores: a round that received frames
    is busy); fill: {frames in a round: [rounds, cycles]} of those busy
    rounds (/vdevpeer/fwd/fill; not its last bucket, fill_max, which counts
    rounds of that many frames or more)."""
    t = telemetry(prefix, "/vdevpeer/fwd/lcores")
    lc = [v for k, v in t.items() if k.startswith("lcore")]
    ft = telemetry(prefix, "/vdevpeer/fwd/fill") or {}
    fill = {}
    for k, v in ft.items():
        if k.startswith("lcore"):
            for f, n, c in zip(v["fill"], v["rounds"], v["cycles"]):
                if f >= ft["fill_max"]:
                    continue
                acc = fill.setdefault(f, [0, 0])
                acc[0] += n
                acc[1] += c
    return (t["tsc_hz"], sum(v["cycles"] for v in lc), sum(v["busy_cycles"] for v in lc),
            sum(v["frames"] for v in lc), sum(v["busy_rounds"] for v in lc), fill)


def stop_and_unlink(procs, paths):
    """End of a run, whatever happened: the processes started (None: not
    started) stopped, the sockets (None: none) removed."""
    for p in procs:
        if p is not None:
            p.stop()
    for path in paths:
        if path is None:
            continue
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def huge_unlink(args, prefixes):
    """--huge: the hugepage files of the processes of these --file-prefix
    values removed (EAL leaves them; the processes have stopped)."""
    d = getattr(args, "huge_dir", None)
    if d is None:
        return
    for name in os.listdir(d):
        if name.startswith(tuple(prefixes)):
            try:
                os.unlink(os.path.join(d, name))
            except FileNotFoundError:
                pass


def worker_cost(cyc0, cyc1):
    """worker_busy_pct, worker_ns_per_frame, worker_frames_per_round and
    worker_fill between two worker_cycles(). Frames wait in front of the
    slower side of a closed loop: a busy worker with full rounds (2 x 32
    frames, both ports) set the rate, and its ns/frame is its own cost at
    full bursts (report.py says more). worker_fill: [(frames in a round,
    share of the busy rounds in %, ns per frame in those rounds)] for the
    fills of at least FILL_MIN_PCT of the rounds: two backends or ring
    layouts compared at the same fill when the guests set it."""
    hz, total, busy, frames, rounds = ((cyc1[0],) +
                                       tuple(b - a for a, b in zip(cyc0[1:5], cyc1[1:5])))
    out = {"worker_busy_pct": 100.0 * busy / total if total else 0.0}
    if frames:
        out["worker_ns_per_frame"] = 1e9 * busy / hz / frames
    if rounds:
        out["worker_frames_per_round"] = frames / rounds
    f0, f1 = cyc0[5], cyc1[5]
    d = {f: (f1[f][0] - f0.get(f, [0, 0])[0], f1[f][1] - f0.get(f, [0, 0])[1]) for f in f1}
    nr = sum(n for n, _ in d.values())
    out["worker_fill"] = [(f, 100.0 * n / nr, 1e9 * c / hz / (n * f))
                          for f, (n, c) in sorted(d.items())
                          if n and 100.0 * n / nr >= FILL_MIN_PCT]
    return out


class Cell:
    """One column of the table: raw frames of one size, or TCP/IPv4 frames
    of one size that the guest hands over for segmentation (TSO), on the
    guest's ring layout (split unless said: "64 packed"), with one queue
    pair per guest port unless said ("64 4q": 4 pairs, the generator
    sending on them in turn, the backend's ports polling 4 queues each on
    its one worker)."""

    def __init__(self, size, tso_mss=0, ring="split", queues=1, workload="gen"):
        self.size, self.tso_mss, self.ring, self.queues = size, tso_mss, ring, queues
        self.workload = workload
        self.label = ("%d TSO" % size if tso_mss else str(size)) + \
            ("" if ring == "split" else " " + ring) + \
            ("" if queues == 1 else " %dq" % queues) + \
            ("" if workload == "gen" else " " + workload)

    def guest_devargs(self):
        return guest_devargs(self.ring, self.queues)

    def __eq__(self, other):
        return isinstance(other, Cell) and self.label == other.label

    def __hash__(self):
        return hash(self.label)


def app_vdevs(backend, sock_a, sock_b, cell):
    """The backend's ports on sock_a and sock_b (sock_b None: a net_null
    port that receives nothing instead, for the one-way workload)."""
    out = []
    for i, sock in enumerate((sock_a, sock_b)):
        if sock is None:
            out += ["--vdev", "net_null%d,no-rx=1" % i]
        elif backend in VDEVPEER_DEVARGS:
            extra = VDEVPEER_DEVARGS[backend] + ",queues=%d" % cell.queues
            out += ["--vdev", "net_vdevpeer%d,peer=%s,server=1%s" % (i, sock, extra)]
        elif backend in ("vhost", "vhost-testpmd"):
            # net_vhost offers HOST_TSO4/6 only with tso=1
            tso = (VHOST_TSO_DEVARGS if cell.tso_mss else "") + ",queues=%d" % cell.queues
            out += ["--vdev", "net_vhost%d,iface=%s%s" % (i, sock, tso)]
        else:
            raise RunError("unknown backend %s" % backend)
    return out


# ------------------------------------------- workloads with a testpmd guest

_CYCLES = re.compile(r"CPU cycles/packet=([0-9.]+) .* at (\d+) MHz Clock")


def port_stats(prefix, ports):
    """Summed /ethdev/stats of ports in the process with --file-prefix prefix."""
    tot = {}
    for p in ports:
        st = telemetry(prefix, "/ethdev/stats,%d" % p) or {}
        for k in ("ipackets", "opackets", "ibytes", "imissed", "ierrors", "oerrors", "rx_nombuf"):
            tot[k] = tot.get(k, 0) + int(st.get(k, 0))
    return tot


def links_up(prefix, ports):
    try:
        return all((telemetry(prefix, "/ethdev/link_status,%d" % p) or {}).get("status") == "UP"
                   for p in ports)
    except OSError:
        return False


def workload_run(args, backend, cell, workdir, tag):
    """One run of the loop or oneway workload: a stock testpmd guest, the
    backend in our app (or net_vhost in stock testpmd), frames/s through
    the backend from its own port counters per period. Returns a result
    dict like one_run's; raises RunError. Cleans up always."""
    oneway = cell.workload == "oneway"
    sock_a = os.path.join(workdir, "%s-A.sock" % tag)
    sock_b = None if oneway else os.path.join(workdir, "%s-B.sock" % tag)
    mid_prefix = "vdp-e2e-%d-%s-mid" % (os.getpid(), tag)
    g_prefix = "vdp-e2e-%d-%s-guest" % (os.getpid(), tag)
    vdevs = app_vdevs(backend, sock_a, sock_b, cell)
    in_testpmd = backend == "vhost-testpmd"
    if in_testpmd:
        mid_argv = ([args.testpmd] + args.eal + ["-l", args.app_lcores, "--file-prefix", mid_prefix]
                    + vdevs + ["--", "--forward-mode=io", "--record-core-cycles", "--nb-cores=1",
                               "--rxq=%d" % cell.queues, "--txq=%d" % cell.queues])
    else:
        mid_argv = ([args.app] + args.eal + ["-l", args.app_lcores, "--file-prefix", mid_prefix]
                    + vdevs + ["--", "--fwd", "io", "--stats-period", "0",
                               "--rxq", str(cell.queues), "--txq", str(cell.queues)]
                    + APP_EXTRA_ARGS.get(backend, []))
    dev = cell.guest_devargs()
    g_vdevs = ["--vdev", "net_virtio_user0,path=%s,%s" % (sock_a, dev)]
    if not oneway:
        g_vdevs += ["--vdev", "net_virtio_user1,path=%s,%s" % (sock_b, dev)]
    g_argv = ([args.testpmd] + args.eal + RINGS[cell.ring][1]
              + ["--lcores", GUEST_TESTPMD_LCORES, "--file-prefix", g_prefix] + g_vdevs
              + ["--", "-i", "--nb-cores=1", "--burst=%d" % args.burst,
                 # frames longer than a default mbuf: testpmd refuses such
                 # --txpkts (checked when parsed: --mbuf-size first) and
                 # sends its 64 B default instead
                 "--mbuf-size=%d" % (2176 if cell.size <= 2048 - 64 else 10240),
                 "--txpkts=%d" % cell.size, "--total-num-mbufs=16384",
                 "--forward-mode=%s" % ("txonly" if oneway else "io")])
    mid = g = None
    res = {"backend": backend, "size": cell.size, "cell": cell.label,
           "guest": "testpmd %s: %s" % ("txonly" if oneway else "io, start tx_first 32", dev)}
    mid_ports = [0] if oneway else [0, 1]
    try:
        # the middle keeps a stdin that never closes (testpmd without -i
        # exits when its stdin ends)
        mid = (TestpmdChild if in_testpmd else Child)(
            "middle", mid_argv, os.path.join(workdir, "%s-mid.log" % tag), mid_prefix)
        wait_until(lambda: os.path.exists(sock_a) and (sock_b is None or os.path.exists(sock_b)),
                   20, "the backend's sockets", fail_if=mid.died_msg, error=RunError)
        g = TestpmdChild("guest-testpmd", g_argv, os.path.join(workdir, "%s-guest.log" % tag),
                         g_prefix)
        wait_until(lambda: links_up(mid_prefix, mid_ports) and
                   links_up(g_prefix, [0] if oneway else [0, 1]), 30, "links up",
                   fail_if=lambda: mid.died_msg() or g.died_msg(), error=RunError)
        g.command("start tx_first 32" if not oneway else "start")
        ours = {os.getpid(), mid.pid, g.pid}
        samples = []
        load0 = cyc0 = None
        t_next = time.monotonic()
        for k in range(args.periods + 2):
            # sample 0 starts the warm-up period, 1 the measured ones
            time.sleep(max(0.0, t_next - time.monotonic()))
            now = time.monotonic()
            samples.append((now, port_stats(mid_prefix, mid_ports),
                            port_stats(g_prefix, [0] if oneway else [0, 1])))
            if k == 1:
                load0 = proc_cpu_ticks()
                if not in_testpmd:
                    cyc0 = worker_cycles(mid_prefix)
            for p in (mid, g):
                if not p.alive():
                    raise RunError("%s exited during the run:\n%s" % (p.name, p.tail()))
            t_next = now + args.period_sec
        secs = samples[-1][0] - samples[1][0]
        if cyc0 is not None:
            res.update(worker_cost(cyc0, worker_cycles(mid_prefix)))
        res["foreign_cpu_pct"], top = foreign_load(load0, proc_cpu_ticks(), secs, ours)
        res["foreign_top"] = ["%s[%d] %.0f%%" % (c, p, u) for u, p, c in top]
        rx_pps, tx_pps, rx_bps = [], [], []
        for (t0, m0, g0), (t1, m1, g1) in zip(samples[1:], samples[2:]):
            dt = t1 - t0
            rx_pps.append((m1["ipackets"] - m0["ipackets"]) / dt)
            rx_bps.append(8.0 * (m1["ibytes"] - m0["ibytes"]) / dt)
            # offered: what the guest got onto its rings
            tx_pps.append((g1["opackets"] - g0["opackets"]) / dt)
        log("  %-8s %9s  periods (Mpps through the backend): %s"
            % (backend, cell.label, " ".join("%.3f" % (v / 1e6) for v in rx_pps)))
        first, last = samples[1][1], samples[-1][1]
        if last["ipackets"] > first["ipackets"]:
            per = (last["ibytes"] - first["ibytes"]) / float(last["ipackets"] - first["ipackets"])
            if abs(per - cell.size) > 4:
                raise RunError("the guest sent %.0f B frames, not %d B" % (per, cell.size))
        res["lost"] = sum(last[k] - first[k] for k in ("imissed", "ierrors", "oerrors", "rx_nombuf"))
        res["rx_pkts"] = last["ipackets"] - first["ipackets"]
        res["tx_pkts"] = samples[-1][2]["opackets"] - samples[1][2]["opackets"]
        res["rx_pps"], res["tx_pps"], res["rx_bps"] = rx_pps, tx_pps, rx_bps
        srt = sorted(rx_pps)
        res["rx_pps_median"] = srt[len(srt) // 2]
        res["rx_pps_min"], res["rx_pps_max"] = srt[0], srt[-1]
        res["tx_pps_median"] = sorted(tx_pps)[len(tx_pps) // 2]
        res["rx_bps_median"] = sorted(rx_bps)[len(rx_bps) // 2]
        res["periods"] = len(rx_pps)
        for p, label in ((g, "guest"), (mid, "middle")):
            rc = p.stop()
            if rc != 0:
                raise RunError("%s exited with status %s:\n%s" % (label, rc, p.tail()))
        if in_testpmd:
            m = _CYCLES.search(mid.log())
            if m:
                # testpmd counts the cycles of polls that received frames,
                # over the whole run (warm-up included)
                res["worker_ns_per_frame"] = float(m.group(1)) * 1000.0 / float(m.group(2))
        return res
    finally:
        stop_and_unlink((g, mid), (sock_a, sock_b))
        huge_unlink(args, (mid_prefix, g_prefix))


class TestpmdChild(Child):
    """A stock testpmd: its stdin a pipe of ours that stays open (without
    -i it exits when stdin ends; with -i it reads commands there)."""

    def __init__(self, name, argv, log_path, prefix):
        Proc.__init__(self, name, argv, log_path, prefix=prefix, cwd=ROOT, new_session=False,
                      lines=True, stdin="pipe", note=lambda msg: log("  " + msg))

    def command(self, line):
        self.popen.stdin.write((line + "\n").encode())
        self.popen.stdin.flush()

    def stop(self, sig=signal.SIGINT, timeout=STOP_TIMEOUT):
        if self.alive() and "-i" in self.argv:
            try:
                self.command("stop")
                self.command("quit")
                self.popen.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
        return super().stop(sig, timeout)


def one_run(args, backend, cell, app_cpu, guest_cpu, workdir, tag):
    """Returns a result dict; raises RunError on failure. Cleans up always."""
    sock_a = os.path.join(workdir, "%s-A.sock" % tag)
    sock_b = os.path.join(workdir, "%s-B.sock" % tag)
    app_prefix = "vdp-e2e-%d-%s-app" % (os.getpid(), tag)
    gg_prefix = "vdp-e2e-%d-%s-guest" % (os.getpid(), tag)
    app_argv = ([args.app] + args.eal + ["-l", args.app_lcores, "--file-prefix", app_prefix]
                + app_vdevs(backend, sock_a, sock_b, cell)
                + ["--", "--fwd", "io", "--stats-period", str(max(1, int(args.period_sec))),
                   "--rxq", str(cell.queues), "--txq", str(cell.queues)]
                + APP_EXTRA_ARGS.get(backend, []))
    gg_argv = ([args.guestgen] + args.eal + RINGS[cell.ring][1]
               + ["--lcores", args.guest_lcores,
                                               "--file-prefix", gg_prefix,
                                               "--vdev", "net_virtio_user0,path=%s,%s" % (sock_a, cell.guest_devargs()),
                                               "--vdev", "net_virtio_user1,path=%s,%s" % (sock_b, cell.guest_devargs()),
                                               "--", "--size", str(cell.size), "--burst", str(args.burst),
                                               "--period", str(args.period_sec),
                                               "--periods", str(args.periods), "--warmup", "1"]
               + (["--tso", str(cell.tso_mss)] if cell.tso_mss else [])
               + (["--queues", str(cell.queues)] if cell.queues > 1 else [])
               + (["--check"] if args.check else []))
    app = gg = None
    res = {"backend": backend, "size": cell.size, "cell": cell.label}
    try:
        app = Child("dpdk-vdevpeer", app_argv, os.path.join(workdir, "%s-app.log" % tag), app_prefix)
        wait_until(lambda: os.path.exists(sock_a) and os.path.exists(sock_b), 20,
                   "the backend's sockets", fail_if=app.died_msg, error=RunError)
        gg = Child("vdp-guestgen", gg_argv, os.path.join(workdir, "%s-guest.log" % tag), gg_prefix)
        # Link up, as the app sees it (its LSC lines) and as the guest sees it.
        ports_up = set()
        gg_up = False
        deadline = time.monotonic() + 30
        while not (gg_up and len(ports_up) == 2):
            if time.monotonic() > deadline:
                raise RunError("links not up after 30 s (app saw %s up, guest %s):\n%s\n%s"
                               % (sorted(ports_up), "up" if gg_up else "down",
                                  app.tail(), gg.tail()))
            while True:
                try:
                    line = app.lines.get_nowait()
                except queue.Empty:
                    break
                if line is None:
                    raise RunError("dpdk-vdevpeer exited before the links came up:\n%s" % app.tail())
                m = re.match(r"Port (\d+) \(.*\): Link up", line)
                if m:
                    ports_up.add(int(m.group(1)))
            line = gg.next_line(0.05)
            if line is None or not gg.alive():
                raise RunError("vdp-guestgen exited before its links came up:\n%s" % gg.tail())
            if line and line.startswith("links up"):
                gg_up = True
        res["placement"] = verify_running_placement(app.pid, gg.pid, app_cpu, guest_cpu)
        ours = {os.getpid(), app.pid, gg.pid}
        # Periods: warm-up first, then the measured ones.
        summary = None
        t_meas = None
        load0 = None
        deadline = time.monotonic() + (args.periods + 1) * args.period_sec + 30
        while summary is None:
            if time.monotonic() > deadline:
                raise RunError("vdp-guestgen did not finish in time:\n%s" % gg.tail())
            line = gg.next_line(0.5)
            if line is None:
                raise RunError("vdp-guestgen exited (rc %s) without a summary:\n%s"
                               % (gg.wait(STOP_TIMEOUT), gg.tail()))
            if line.startswith("period "):
                log("  %-8s %9s B  %s" % (backend, cell.label, line))
                if "(warm-up)" in line:
                    load0 = proc_cpu_ticks()
                    t_meas = time.monotonic()
                    own0 = [task_ticks(app.pid, t) for t in res["placement"]["worker_tids"]]
                    own0.append(task_ticks(gg.pid, gg.pid))
                    cyc0 = worker_cycles(app_prefix)
            elif line.startswith("SUMMARY "):
                summary = json.loads(line[len("SUMMARY "):])
                if load0 is not None:
                    res.update(worker_cost(cyc0, worker_cycles(app_prefix)))
        if load0 is not None:
            # The sampling window includes the ~0.2 s drain; close enough.
            secs = time.monotonic() - t_meas
            res["foreign_cpu_pct"], top = foreign_load(load0, proc_cpu_ticks(), secs, ours)
            res["foreign_top"] = ["%s[%d] %.0f%%" % (c, p, u) for u, p, c in top]
            own1 = [task_ticks(app.pid, t) for t in res["placement"]["worker_tids"]]
            own1.append(task_ticks(gg.pid, gg.pid))
            hz = os.sysconf("SC_CLK_TCK")
            res["worker_cpu_pct"] = 100.0 * (sum(own1[:-1]) - sum(own0[:-1])) / hz / secs
            res["guest_cpu_pct"] = 100.0 * (own1[-1] - own0[-1]) / hz / secs
        rc = gg.stop()
        if rc != 0:
            raise RunError("vdp-guestgen exited with status %s:\n%s" % (rc, gg.tail()))
        if summary.get("periods", 0) < args.periods:
            raise RunError("vdp-guestgen measured %s of %d periods"
                           % (summary.get("periods"), args.periods))
        if args.check and (summary["bad_pattern"] or summary["out_of_order"]):
            raise RunError("frame check failed: %d bad, %d out of order"
                           % (summary["bad_pattern"], summary["out_of_order"]))
        res.update(summary)
        rc = app.stop()
        if rc != 0:
            raise RunError("dpdk-vdevpeer exited with status %s:\n%s" % (rc, app.tail()))
        return res
    finally:
        stop_and_unlink((gg, app), (sock_a, sock_b))
        huge_unlink(args, (app_prefix, gg_prefix))


# ------------------------------------------------------------ copy limit

def copy_limits(args, sizes, app_cpu, guest_cpu):
    """{size: ns per frame} of bench_copy's cross-core copy, the guest's
    CPU sending and the worker's copying; {} when it is not built."""
    exe = os.path.join(args.build, "perf", "bench_copy")
    if not os.access(exe, os.X_OK):
        log("note: %s not built: no copy limit column" % exe)
        return {}
    if args.wait_quiet > 0:
        wait_quiet(args.wait_quiet, {os.getpid()})
    env = dict(os.environ, VDP_BENCH_CPUS="%d,%d" % (min(guest_cpu), min(app_cpu["workers"])))
    r = subprocess.run([exe, "--benchmark_filter=BM_copy_crosscore", "--benchmark_format=json",
                        "--benchmark_min_time=0.5", "--benchmark_repetitions=3",
                        "--benchmark_report_aggregates_only=true"],
                       capture_output=True, text=True, env=env, timeout=300)
    if r.returncode != 0:
        log("note: bench_copy failed: no copy limit column\n%s" % r.stderr[-500:])
        return {}
    out = {}
    for b in json.loads(r.stdout)["benchmarks"]:
        m = re.match(r"BM_copy_crosscore/(\d+)/real_time_median$", b["name"])
        if m:
            out[int(m.group(1))] = b["real_time"]
    log("copy limit (bench_copy, cross-core, median of 3): " +
        ", ".join("%d B %.1f ns" % (k, v) for k, v in sorted(out.items())))
    missing = [s for s in sizes if s not in out]
    if missing:
        log("note: bench_copy measures 64, 256, 1518 and 9000 B only: no limit for %s"
            % ", ".join(map(str, missing)))
    return out


# ------------------------------------------------------------------ main

def run_plan(cells, backends, rounds, interleave):
    """The runs in the order made: (cell, round, backend). By default one
    cell's rounds, then the next cell's; interleave: round by round, every
    cell in each, so that cells (e.g. split and packed rings) are compared
    in the same minutes. Each round starts with the next backend (and,
    interleaved, each cell of a round with the next one), so that no
    backend is always the one that runs right after another."""
    plan = []
    if interleave:
        for rnd in range(rounds):
            for ci, cell in enumerate(cells):
                k = (rnd + ci) % len(backends)
                plan += [(cell, rnd, b) for b in backends[k:] + backends[:k]]
        return plan
    for cell in cells:
        for rnd in range(rounds):
            k = rnd % len(backends)
            plan += [(cell, rnd, b) for b in backends[k:] + backends[:k]]
    return plan


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="64,256,1518,9000",
                    help="frame sizes in bytes without FCS (default 64,256,1518,9000)")
    ap.add_argument("--periods", type=int, default=5, help="measured periods per run (default 5)")
    ap.add_argument("--interleave", action="store_true",
                    help="run the rounds one after the other, each with every cell, instead "
                         "of all rounds of one cell before the next: cells (split and packed "
                         "rings, sizes) then meet the same host states and compare with "
                         "each other round by round (the per-round table)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run every (size, backend) cell this many times, the backends "
                         "taking turns, and merge the rounds (default 1). On a shared host "
                         "whose speed changes over minutes, rounds spread those changes "
                         "over all backends instead of penalising whichever ran then")
    ap.add_argument("--period-sec", type=float, default=2.0, help="seconds per period (default 2)")
    ap.add_argument("--backends", default=",".join(DEFAULT_BACKENDS),
                    help="comma list of %s (default %s)" % (",".join(BACKENDS),
                                                           ",".join(DEFAULT_BACKENDS)))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks.md"),
                    help="markdown report (default docs/benchmarks.md); the plot goes "
                         "next to it as .png")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="meson build dir")
    ap.add_argument("--burst", type=int, default=32, help="generator burst (default 32)")
    ap.add_argument("--tso-size", type=int, default=65000,
                    help="also run TCP/IPv4 frames of this size that the guest hands over "
                         "for segmentation (TSO) and the receiver takes whole (LRO); "
                         "0: do not (default 65000)")
    ap.add_argument("--tso-mss", type=int, default=1448, help="MSS of those frames (default 1448)")
    ap.add_argument("--rings", default="split",
                    help="comma list of the guest's ring layouts, each a set of cells: "
                         "%s (default split)" % ",".join(RINGS))
    ap.add_argument("--queues", default="1",
                    help="comma list of queue pairs per guest port, each a set of cells "
                         "(1..8; default 1). N > 1: the generator sends on the N tx queues "
                         "in turn and polls all rx queues, the backend's ports poll N "
                         "queues each on the one worker")
    ap.add_argument("--workloads", default="gen",
                    help="comma list of %s (default gen): gen, our generator on both guest "
                         "ports; loop, a stock testpmd guest forwarding its two ports in io "
                         "mode after start tx_first 32; oneway, a stock testpmd txonly guest "
                         "into the backend, forwarded to net_null" % ",".join(WORKLOADS))
    ap.add_argument("--testpmd", default=shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd",
                    help="the stock testpmd of the loop/oneway guest and of vhost-testpmd")
    ap.add_argument("--check", action="store_true",
                    help="have the generator verify pattern and order of every frame")
    ap.add_argument("--app-lcores", default=APP_LCORES, help="app -l list (default %s)" % APP_LCORES)
    ap.add_argument("--guest-lcores", default=GUEST_LCORES,
                    help="generator --lcores (default %s)" % GUEST_LCORES)
    ap.add_argument("--huge", action="store_true",
                    help="the app's and the guests' memory in 2 MB hugepages (a hugetlbfs "
                         "mount of the runner's own, %d pages reserved for the run and "
                         "given back after; root) instead of --no-huge's 4 KB pages: "
                         "guest memory as a VM on hugepages gives it to the backend"
                         % HUGE_PAGES)
    ap.add_argument("--wait-quiet", type=float, default=60.0,
                    help="before each run wait up to this many seconds for other processes "
                         "to leave the CPUs idle (default 60; 0: do not wait)")
    args = ap.parse_args()

    def int_list(opt, text, lo, hi):
        """A comma list of integers in lo..hi, or the parser's error."""
        try:
            vals = [int(v) for v in text.split(",") if v.strip()]
        except ValueError:
            ap.error("--%s %s: expected a comma list of integers" % (opt, text))
        if not vals or any(v < lo or v > hi for v in vals):
            ap.error("--%s %s: every value must be in %d..%d" % (opt, text, lo, hi))
        return vals

    sizes = int_list("sizes", args.sizes, 60, 9600)
    rings = [r.strip() for r in args.rings.split(",") if r.strip()]
    if not rings or any(r not in RINGS for r in rings):
        ap.error("--rings %s: known layouts: %s" % (args.rings, ", ".join(RINGS)))
    if args.tso_size and not (1600 <= args.tso_size <= 65407 and 536 <= args.tso_mss <= 9000):
        ap.error("--tso-size must be in 1600..65407 and --tso-mss in 536..9000")
    queues = int_list("queues", args.queues, 1, 8)
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if not workloads or any(w not in WORKLOADS for w in workloads):
        ap.error("--workloads %s: known: %s" % (args.workloads, ", ".join(WORKLOADS)))
    cells = []
    for wl in workloads:
        for nq in queues:
            for ring in rings:
                cells += [Cell(s, ring=ring, queues=nq, workload=wl) for s in sizes]
                if args.tso_size and wl == "gen":
                    cells.append(Cell(args.tso_size, args.tso_mss, ring, nq))
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in backends:
        if b not in BACKENDS:
            ap.error("--backends: unknown backend %r (known: %s)" % (b, ", ".join(BACKENDS)))
    if args.periods < 1 or args.period_sec < 0.1 or args.rounds < 1:
        ap.error("--periods and --rounds must be >= 1 and --period-sec >= 0.1")
    args.app = os.path.join(args.build, "app", "dpdk-vdevpeer")
    args.guestgen = os.path.join(args.build, "perf", "vdp-guestgen")
    for exe in (args.app, args.guestgen):
        if not os.access(exe, os.X_OK):
            sys.exit("run-e2e: %s not found: build first (ninja -C %s)" % (exe, args.build))
    if os.geteuid() != 0:
        log("note: not root; vhost-user with --no-huge works, but DPDK may need root here")
    try:
        app_cpu, guest_cpu = check_placement(args.app_lcores, args.guest_lcores)
    except RunError as e:
        sys.exit("run-e2e: %s" % e)
    log("placement: app main lcore on CPU %d (idle), worker on CPU %s; generator on CPU %s"
        % (app_cpu["main"], sorted(app_cpu["workers"]), sorted(guest_cpu)))

    args.huge_dir = None
    if not args.huge:
        args.eal = eal_common()
        return run_cells(args, cells, backends, sizes, app_cpu, guest_cpu)
    if os.geteuid() != 0:
        sys.exit("run-e2e: --huge needs root (it reserves hugepages and mounts hugetlbfs)")
    try:
        with hugetlbfs(HUGE_PAGES) as mnt:
            args.huge_dir = mnt
            args.eal = eal_common(mnt)
            return run_cells(args, cells, backends, sizes, app_cpu, guest_cpu)
    except HugeUnavailable as e:
        sys.exit("run-e2e: --huge: %s" % e)


def run_cells(args, cells, backends, sizes, app_cpu, guest_cpu):
    """main's runs, the report written; 1 when a run failed."""
    args.copy_limits = copy_limits(args, sizes, app_cpu, guest_cpu)
    cmdline = "python3 perf/run-e2e.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    workdir = tempfile.mkdtemp(prefix="vdp-e2e-")
    results = {}
    failed = 0
    try:
        total = len(cells) * len(backends) * args.rounds
        n = 0
        runs = {(b, cell): [] for cell in cells for b in backends}
        for cell, rnd, backend in run_plan(cells, backends, args.rounds, args.interleave):
            n += 1
            if backend == "vhost-testpmd" and cell.workload == "gen":
                continue  # the generator's cells need our app's cycle counters
            log("[%d/%d] %s, %s B frames%s" % (n, total, backend, cell.label,
                                              ", round %d" % (rnd + 1) if args.rounds > 1 else ""))
            if args.wait_quiet > 0:
                wait_quiet(args.wait_quiet, {os.getpid()})
            tag = "%s-%s-%d" % (backend, cell.label.replace(" ", ""), rnd)
            try:
                if cell.workload == "gen":
                    r = one_run(args, backend, cell, app_cpu, guest_cpu, workdir, tag)
                else:
                    r = workload_run(args, backend, cell, workdir, tag)
                log("  => %s Mpps rx (median [min–max]), %.2f Gbit/s, lost %d, "
                    "worker %.1f ns/frame, other procs %.0f%% CPU"
                    % (fmt_mpps(r), r["rx_bps_median"] / 1e9, r["lost"],
                       r.get("worker_ns_per_frame", 0), r.get("foreign_cpu_pct", 0)))
            except RunError as e:
                failed += 1
                log("  FAILED: %s" % e)
                r = {"backend": backend, "size": cell.size, "cell": cell.label,
                     "error": str(e)}
            runs[(backend, cell)].append(r)
        for key, rs in runs.items():
            if rs:
                results[key] = merge_rounds(rs)
        rows = table_rows(cells, results, args.copy_limits)
        print_table(rows)
        out_dir = os.path.dirname(os.path.abspath(args.out))
        os.makedirs(out_dir, exist_ok=True)
        png = os.path.splitext(os.path.abspath(args.out))[0] + ".png"
        png_ok = make_plot(cells, results, png, workdir)
        write_markdown(args, cells, results, rows, machine(), started, png_ok, cmdline)
        with open(os.path.join(workdir, "results.json"), "w") as f:
            json.dump([v for v in results.values()], f, indent=1, default=list)
        log("wrote %s%s; logs kept in %s" % (args.out, " and " + png if png_ok else "",
                                            workdir if failed else "(removed)"))
    finally:
        if not failed:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
