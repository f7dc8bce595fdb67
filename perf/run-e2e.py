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
(SIGINT, then SIGKILL) and cleaned up (sockets, /var/run/dpdk/<prefix>)
even when a run fails.
"""

import argparse
import datetime
import json
import os
import platform
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the DPDK runtime-directory rule and telemetry client the tests use too
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
from dpdk_runtime import telemetry  # noqa: E402
import dpdk_runtime  # noqa: E402

# vdevpeer: net_vdevpeer as it ships (zerocopy=auto); vdevpeer-copy: with
# zerocopy=off, the copy-only data path (which offers IN_ORDER).
BACKENDS = ("vdevpeer", "vdevpeer-copy", "vhost")
VDEVPEER_DEVARGS = {"vdevpeer": "", "vdevpeer-copy": ",zerocopy=off"}
# Guest devargs, the same for every backend. These are virtio_user's own
# defaults, spelt out: IN_ORDER and MRG_RXBUF are negotiated when the
# backend offers them. All offer MRG_RXBUF; net_vhost and net_vdevpeer with
# zerocopy=off offer IN_ORDER, net_vdevpeer with zero-copy possible does not
# (it gives guest TX buffers back out of order).
GUEST_DEVARGS = "queues=1,mrg_rxbuf=1,in_order=1,packed_vq=0,queue_size=1024"
VHOST_TSO_DEVARGS = ",tso=1"
APP_LCORES = "0,1"          # main lcore 0 (sleeps), worker lcore 1 on CPU 1
GUEST_LCORES = "0@0"        # the generator's only lcore, on CPU 0
EAL_COMMON = ["--no-pci", "--no-huge", "-m", "1024", "--log-level", "lib.eal:notice"]
STOP_TIMEOUT = 10.0
# Other processes may use this much of a CPU (percent, summed) before a
# run counts as disturbed.
QUIET_LIMIT_PCT = 10.0


def log(msg):
    print(msg, flush=True)


class RunError(Exception):
    pass


# ---------------------------------------------------------------- placement

def parse_cpu_list(s):
    """'0,1', '0-3', '0-1,4' -> set of ints."""
    out = set()
    for part in s.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            out.update(range(int(a), int(b) + 1))
        else:
            out.add(int(part))
    return out


def app_busy_cpus(lcores):
    """CPUs of the app's worker lcores for '-l LIST': lcore N on CPU N, the
    lowest lcore is the main lcore and only sleeps."""
    ids = sorted(parse_cpu_list(lcores))
    if len(ids) < 2:
        raise RunError("the app needs a main lcore and at least one worker: -l %s" % lcores)
    return {"main": ids[0], "workers": set(ids[1:])}


def guest_busy_cpus(lcores):
    """CPUs for '--lcores L@C[,L@C]': every lcore of the generator except
    the main one idles, but it is still pinned; count them all."""
    cpus = set()
    for item in lcores.split(","):
        if "@" not in item:
            raise RunError("--guest-lcores %s: give lcore@cpu pairs, e.g. 0@0" % lcores)
        _, cpu = item.split("@", 1)
        cpus |= parse_cpu_list(cpu.strip("()"))
    return cpus


def check_placement(app_lcores, guest_lcores):
    """Refuse any set-up that puts two busy pollers on one CPU."""
    allowed = os.sched_getaffinity(0)
    app = app_busy_cpus(app_lcores)
    guest = guest_busy_cpus(guest_lcores)
    for what, cpus in (("app workers", app["workers"]), ("generator", guest),
                       ("app main lcore", {app["main"]})):
        missing = cpus - allowed
        if missing:
            raise RunError("placement: %s on CPU %s, which this process may not use "
                           "(allowed: %s)" % (what, sorted(missing), sorted(allowed)))
    shared = app["workers"] & guest
    if shared:
        raise RunError("placement refused: the app's worker lcore(s) and the generator "
                       "would both busy-poll CPU %s; two pollers on one CPU collapse a "
                       "vhost-user link to a few Kpps (see DESIGN.md). Give them "
                       "different CPUs." % sorted(shared))
    if len(app["workers"]) != 1:
        raise RunError("placement: the app must have exactly one worker lcore here "
                       "(got %s); there are two pollers and %d CPUs"
                       % (sorted(app["workers"]), len(allowed)))
    return app, guest


def thread_cpus(pid, name_re):
    """{tid: affinity} of the threads of pid whose comm matches name_re."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if re.match(name_re, comm):
            try:
                out[int(tid)] = os.sched_getaffinity(int(tid))
            except OSError:
                pass
    return out


def verify_running_placement(app_pid, gg_pid, app, guest):
    """Check the pinning the processes really got, not only their argv."""
    workers = thread_cpus(app_pid, r"(lcore|rte)-worker-\d+$")
    got = set()
    for tid, aff in workers.items():
        got |= aff
    if got != app["workers"]:
        raise RunError("placement: app worker threads are on CPUs %s, expected %s"
                       % (sorted(got), sorted(app["workers"])))
    try:
        gaff = os.sched_getaffinity(gg_pid)
    except OSError as e:
        raise RunError("placement: cannot read the generator's affinity: %s" % e)
    if gaff & app["workers"]:
        raise RunError("placement: the generator's main thread may run on CPU %s, "
                       "shared with the app's worker" % sorted(gaff & app["workers"]))
    return {"app_worker_cpus": sorted(got), "guest_cpus": sorted(gaff),
            "worker_tids": sorted(workers)}


# ----------------------------------------------------------- foreign load

def proc_cpu_ticks():
    """{pid: (utime+stime ticks, comm)} for every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        r = s.rfind(")")
        comm = s[s.find("(") + 1:r]
        fields = s[r + 2:].split()
        out[int(d)] = (int(fields[11]) + int(fields[12]), comm)
    return out


def task_ticks(pid, tid):
    try:
        with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
            s = f.read()
    except OSError:
        return 0
    fields = s[s.rfind(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def foreign_load(before, after, seconds, ours):
    """Percent of one CPU used by processes other than ours, and the top ones."""
    hz = os.sysconf("SC_CLK_TCK")
    users = []
    for pid, (t1, comm) in after.items():
        if pid in ours:
            continue
        t0 = before.get(pid, (t1, comm))[0] if pid in before else 0
        pct = 100.0 * (t1 - t0) / hz / seconds if seconds > 0 else 0
        if pct >= 1.0:
            users.append((pct, pid, comm))
    users.sort(reverse=True)
    return sum(u[0] for u in users), users[:5]


def wait_quiet(max_wait, ours):
    """Wait (up to max_wait s) until other processes leave the CPUs alone."""
    deadline = time.monotonic() + max_wait
    while True:
        b = proc_cpu_ticks()
        time.sleep(1.0)
        total, top = foreign_load(b, proc_cpu_ticks(), 1.0, ours)
        if total < QUIET_LIMIT_PCT:
            return total, top
        if time.monotonic() >= deadline:
            log("  warning: machine not quiet: other processes use %.0f%% CPU (%s); "
                "measuring anyway" % (total, ", ".join("%s[%d] %.0f%%" % (c, p, u)
                                                      for u, p, c in top)))
            return total, top
        log("  waiting for a quiet machine: other processes use %.0f%% CPU (%s)"
            % (total, ", ".join("%s[%d] %.0f%%" % (c, p, u) for u, p, c in top[:3])))
        time.sleep(4.0)


# ------------------------------------------------------------- processes

class Proc:
    """A child with its stdout+stderr in a log file and a line queue."""

    def __init__(self, name, argv, log_path):
        self.name = name
        self.argv = argv
        self.lines = queue.Queue()
        self.log_path = log_path
        self.logf = open(log_path, "w")
        self.logf.write("$ %s\n" % " ".join(shlex.quote(a) for a in argv))
        self.logf.flush()
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, errors="replace",
                                  cwd=ROOT)
        self.pid = self.p.pid
        self.t = threading.Thread(target=self._pump, daemon=True)
        self.t.start()

    def _pump(self):
        for line in self.p.stdout:
            self.logf.write(line)
            self.logf.flush()
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def alive(self):
        return self.p.poll() is None

    def next_line(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    def tail(self, n=15):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGINT, then SIGKILL after timeout; by PID only."""
        if self.p.poll() is None:
            try:
                os.kill(self.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                log("  %s (pid %d) ignored SIGINT for %.0f s: SIGKILL"
                    % (self.name, self.pid, timeout))
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait()
        self.t.join(5)
        self.logf.close()
        return self.p.returncode


# ----------------------------------------------------------------- a run

def worker_cycles(prefix):
    """(tsc_hz, cycles, busy_cycles, frames) summed over the app's workers
    (/vdevpeer/fwd/lcores: a round that received frames is busy)."""
    t = telemetry(prefix, "/vdevpeer/fwd/lcores")
    lc = [v for k, v in t.items() if k.startswith("lcore")]
    return (t["tsc_hz"], sum(v["cycles"] for v in lc), sum(v["busy_cycles"] for v in lc),
            sum(v["frames"] for v in lc))


class Cell:
    """One column of the table: raw frames of one size, or TCP/IPv4 frames
    of one size that the guest hands over for segmentation (TSO)."""

    def __init__(self, size, tso_mss=0):
        self.size, self.tso_mss = size, tso_mss
        self.label = "%d TSO" % size if tso_mss else str(size)

    def __eq__(self, other):
        return isinstance(other, Cell) and self.label == other.label

    def __hash__(self):
        return hash(self.label)


def app_vdevs(backend, sock_a, sock_b, cell):
    if backend in VDEVPEER_DEVARGS:
        extra = VDEVPEER_DEVARGS[backend]
        return ["--vdev", "net_vdevpeer0,peer=%s,server=1%s" % (sock_a, extra),
                "--vdev", "net_vdevpeer1,peer=%s,server=1%s" % (sock_b, extra)]
    if backend == "vhost":
        # net_vhost offers HOST_TSO4/6 only with tso=1
        tso = VHOST_TSO_DEVARGS if cell.tso_mss else ""
        return ["--vdev", "net_vhost0,iface=%s%s" % (sock_a, tso),
                "--vdev", "net_vhost1,iface=%s%s" % (sock_b, tso)]
    raise RunError("unknown backend %s" % backend)


def wait_for(cond, timeout, what, procs):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        for p in procs:
            if not p.alive():
                raise RunError("%s exited (rc %s) while waiting for %s:\n%s"
                               % (p.name, p.p.returncode, what, p.tail()))
        time.sleep(0.05)
    raise RunError("timed out after %.0f s waiting for %s" % (timeout, what))


def one_run(args, backend, cell, app_cpu, guest_cpu, workdir, tag):
    """Returns a result dict; raises RunError on failure. Cleans up always."""
    sock_a = os.path.join(workdir, "%s-A.sock" % tag)
    sock_b = os.path.join(workdir, "%s-B.sock" % tag)
    app_prefix = "vdp-e2e-%d-%s-app" % (os.getpid(), tag)
    gg_prefix = "vdp-e2e-%d-%s-guest" % (os.getpid(), tag)
    app_argv = ([args.app] + EAL_COMMON + ["-l", args.app_lcores, "--file-prefix", app_prefix]
                + app_vdevs(backend, sock_a, sock_b, cell)
                + ["--", "--fwd", "io", "--stats-period", str(max(1, int(args.period_sec)))])
    gg_argv = ([args.guestgen] + EAL_COMMON + ["--lcores", args.guest_lcores,
                                               "--file-prefix", gg_prefix,
                                               "--vdev", "net_virtio_user0,path=%s,%s" % (sock_a, GUEST_DEVARGS),
                                               "--vdev", "net_virtio_user1,path=%s,%s" % (sock_b, GUEST_DEVARGS),
                                               "--", "--size", str(cell.size), "--burst", str(args.burst),
                                               "--period", str(args.period_sec),
                                               "--periods", str(args.periods), "--warmup", "1"]
               + (["--tso", str(cell.tso_mss)] if cell.tso_mss else [])
               + (["--check"] if args.check else []))
    app = gg = None
    res = {"backend": backend, "size": cell.size, "cell": cell.label}
    try:
        app = Proc("dpdk-vdevpeer", app_argv, os.path.join(workdir, "%s-app.log" % tag))
        wait_for(lambda: os.path.exists(sock_a) and os.path.exists(sock_b), 20,
                 "the backend's sockets", [app])
        gg = Proc("vdp-guestgen", gg_argv, os.path.join(workdir, "%s-guest.log" % tag))
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
                               % (gg.p.wait(), gg.tail()))
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
                    cyc1 = worker_cycles(app_prefix)
                    hz, total, busy, frames = (cyc1[0],) + tuple(b - a for a, b in zip(cyc0[1:], cyc1[1:]))
                    res["worker_busy_pct"] = 100.0 * busy / total if total else 0.0
                    if frames:
                        res["worker_ns_per_frame"] = 1e9 * busy / hz / frames
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
            raise RunError("vdp-guestgen exited with status %d:\n%s" % (rc, gg.tail()))
        if summary.get("periods", 0) < args.periods:
            raise RunError("vdp-guestgen measured %s of %d periods"
                           % (summary.get("periods"), args.periods))
        if args.check and (summary["bad_pattern"] or summary["out_of_order"]):
            raise RunError("frame check failed: %d bad, %d out of order"
                           % (summary["bad_pattern"], summary["out_of_order"]))
        res.update(summary)
        rc = app.stop()
        if rc != 0:
            raise RunError("dpdk-vdevpeer exited with status %d:\n%s" % (rc, app.tail()))
        return res
    finally:
        for p in (gg, app):
            if p is not None and p.p.returncode is None:
                p.stop()
        for path in (sock_a, sock_b):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        for prefix in (app_prefix, gg_prefix):
            dpdk_runtime.remove_runtime_dir(prefix)


# ------------------------------------------------------------- reporting

def merge_rounds(runs):
    """One result from the rounds of one (backend, cell): the best round's
    median rate (the round the host disturbed least), min and max over all
    measured periods of all rounds, the best round's worker cost, counters
    summed, CPU shares at their worst."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[-1]
    best = max(ok, key=lambda r: r["rx_pps_median"])
    out = dict(best)
    for key in ("rx_pps", "tx_pps", "rx_bps"):
        out[key] = [v for r in ok for v in r.get(key, [])]
    out["rx_pps_min"], out["rx_pps_max"] = min(out["rx_pps"]), max(out["rx_pps"])
    for key in ("lost", "tx_pkts", "rx_pkts", "rx_gso", "bad_pattern", "out_of_order"):
        out[key] = sum(r.get(key, 0) for r in ok)
    vals = [r["worker_ns_per_frame"] for r in ok if "worker_ns_per_frame" in r]
    if vals:
        out["worker_ns_per_frame"] = min(vals)
    for key in ("foreign_cpu_pct", "worker_cpu_pct", "guest_cpu_pct"):
        vals = [r[key] for r in ok if key in r]
        if vals:
            out[key] = max(vals) if key == "foreign_cpu_pct" else min(vals)
    out["rounds"] = len(ok)
    if len(ok) < len(runs):
        out["failed_rounds"] = len(runs) - len(ok)
    return out


def fmt_mpps(r):
    return "%.3f [%.3f–%.3f]" % (r["rx_pps_median"] / 1e6, r["rx_pps_min"] / 1e6,
                                 r["rx_pps_max"] / 1e6)


def ratio(vd, vh, key, invert=False):
    if not vd or not vh or not vd.get(key) or not vh.get(key):
        return "–"
    return "%.2f" % (vh[key] / vd[key] if invert else vd[key] / vh[key])


def table_rows(cells, results):
    rows = []
    for cell in cells:
        vh = results.get(("vhost", cell))
        for backend in BACKENDS:
            r = results.get((backend, cell))
            if r is None:
                continue
            if "error" in r:
                rows.append([cell.label, backend, "FAILED", "–", "–", "–", "–",
                             r["error"].splitlines()[0][:70], "", "", "", ""])
                continue
            ns = r.get("worker_ns_per_frame")
            rows.append([cell.label, backend, fmt_mpps(r),
                         "%.2f" % (r["rx_bps_median"] / 1e9),
                         "%.3f" % (r["tx_pps_median"] / 1e6),
                         ratio(r, vh, "rx_pps_median") if backend != "vhost" else "",
                         "%.0f%%" % r.get("worker_busy_pct", 0),
                         "%.1f" % ns if ns else "–",
                         ratio(r, vh, "worker_ns_per_frame", invert=True) if backend != "vhost" else "",
                         "%d" % r["lost"],
                         "%.0f%%" % r.get("foreign_cpu_pct", 0),
                         "%.0f%% / %.0f%%" % (r.get("worker_cpu_pct", 0), r.get("guest_cpu_pct", 0))])
    return rows


HEADER = ["size (B)", "backend", "rx Mpps median [min–max]", "rx Gbit/s",
          "tx Mpps (offered)", "rate vs vhost", "worker busy", "worker ns/frame",
          "cost vs vhost", "lost", "other procs' CPU", "CPU got: worker / guest"]


def print_table(rows):
    w = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADER)]
    print()
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(HEADER)))
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
    print(flush=True)


def md_table(rows):
    out = ["| " + " | ".join(HEADER) + " |",
           "|" + "|".join("---" if i < 2 else "---:" for i in range(len(HEADER))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    dpdk = "unknown"
    try:
        dpdk = subprocess.run(["pkg-config", "--modversion", "libdpdk"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        pkg = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "dpdk"], capture_output=True,
                             text=True).stdout.strip()
        if pkg:
            dpdk += " (Debian package dpdk %s)" % pkg
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.0f GiB" % (kb / 1024 / 1024)
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": model, "ncpu": os.cpu_count(), "kernel": platform.release(),
            "dpdk": dpdk, "mem": mem}


def make_plot(cells, results, png, workdir):
    gp = shutil.which("gnuplot")
    if gp is None:
        log("gnuplot not found (apt-get install gnuplot-nox): no plot")
        return False
    if not any("rx_pps_median" in r for r in results.values()):
        log("no successful run: no plot")
        return False
    dat = os.path.join(workdir, "plot.dat")
    with open(dat, "w") as f:
        f.write("# idx size, then med min max of: vdevpeer vdevpeer-copy vhost\n")
        for i, cell in enumerate(cells):
            cols = [str(i), '"%s"' % cell.label]
            for b in BACKENDS:
                r = results.get((b, cell))
                if r and "rx_pps_median" in r:
                    cols += ["%.6f" % (r[k] / 1e6) for k in ("rx_pps_median", "rx_pps_min", "rx_pps_max")]
                else:
                    cols += ["NaN"] * 3
            f.write(" ".join(cols) + "\n")
    script = """
set terminal pngcairo size 900,540 font ",11"
set output '%(png)s'
set title "Guest-to-guest frame rate through the backend (1 worker lcore, io forwarding)"
set xlabel "frame size (bytes, without FCS)"
set ylabel "received Mpps (median; bars: min–max)"
set logscale y
set grid ytics
set key top right
set xrange [-0.5:%(xmax)f]
set style data yerrorlines
plot '%(dat)s' using ($1-0.07):3:4:5:xtic(2) title 'net\\_vdevpeer (ours, zerocopy=auto)' lw 2 pt 7, \\
     '%(dat)s' using ($1):6:7:8 title 'net\\_vdevpeer zerocopy=off' lw 2 pt 9, \\
     '%(dat)s' using ($1+0.07):9:10:11 title 'net\\_vhost (DPDK)' lw 2 pt 5
""" % {"png": png, "dat": dat, "xmax": len(cells) - 0.5}
    gpf = os.path.join(workdir, "plot.gp")
    with open(gpf, "w") as f:
        f.write(script)
    r = subprocess.run([gp, gpf], capture_output=True, text=True)
    if r.returncode != 0 or "pngcairo" in r.stderr:
        # gnuplot-nox has no cairo: fall back to the gd terminal.
        script = script.replace('set terminal pngcairo size 900,540 font ",11"',
                                "set terminal png size 900,540")
        with open(gpf, "w") as f:
            f.write(script)
        r = subprocess.run([gp, gpf], capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed: %s" % r.stderr.strip())
        return False
    return True


def tso_text(args, cells, results):
    """The paragraph on the TSO cell, with what the receiving guest saw."""
    tso = [c for c in cells if c.tso_mss]
    if not tso:
        return []
    c = tso[0]
    seen = []
    for b in BACKENDS:
        r = results.get((b, c))
        if r and "rx_pkts" in r:
            seen.append("%s %d of %d" % (b, r.get("rx_gso", 0), r["rx_pkts"]))
    return [
        "The `%s` cell is bulk TCP the way a guest's stack sends it with segmentation "
        "offload: the generator sends TCP/IPv4 frames of %d bytes and asks its virtio device "
        "to segment them at MSS %d (`--tso %d`: VIRTIO_NET_F_CSUM and HOST_TSO4 on the "
        "sending port), and asks for LRO on the receiving port (GUEST_CSUM, GUEST_TSO4/6). "
        "Like a TCP sender it keeps at most a window of 1 MiB of payload unacknowledged "
        "(sent but not yet received; `--window`), so its tx pool is small and its data warm "
        "in the shared cache, as a socket buffer's would be. net_vhost runs with `tso=1` "
        "(else it offers no HOST_TSO4). Both backends deliver each frame whole, but only "
        "net_vdevpeer passes its GSO metadata on: frames the receiving guest saw marked GSO "
        "(RTE_MBUF_F_RX_LRO): %s. net_vhost hands the app its offload flags as RX flags "
        "(`RTE_MBUF_F_RX_LRO`, its default compliant mode) and its enqueue writes GSO "
        "headers only from TX flags, so its guest receives a %d-byte frame with no GSO type: "
        "a Linux guest would have to accept a frame far above its MTU. With "
        "`legacy-ol-flags=1` net_vhost would set TX flags instead, and an ethdev app would "
        "have to segment in software, as net_vhost advertises no TSO capability."
        % (c.label, c.size, c.tso_mss, c.tso_mss, "; ".join(seen) or "no data", c.size),
        "",
    ]


def write_markdown(args, cells, results, rows, m, started, png_ok, cmdline):
    app_cmd = ("build/app/dpdk-vdevpeer " + " ".join(EAL_COMMON) +
               " -l %s --file-prefix <unique> " % args.app_lcores +
               "--vdev net_vdevpeer0,peer=A.sock,server=1 --vdev net_vdevpeer1,peer=B.sock,server=1 "
               "-- --fwd io --stats-period %d" % max(1, int(args.period_sec)))
    app_cmd_vh = ("same, with ,zerocopy=off added to both --vdev net_vdevpeerN (vdevpeer-copy); "
                  "same, with --vdev net_vhost0,iface=A.sock --vdev net_vhost1,iface=B.sock (vhost; "
                  "each with ,tso=1 in the TSO cell)")
    gg_cmd = ("build/perf/vdp-guestgen " + " ".join(EAL_COMMON) +
              " --lcores %s --file-prefix <unique> " % args.guest_lcores +
              "--vdev net_virtio_user0,path=A.sock,%s " % GUEST_DEVARGS +
              "--vdev net_virtio_user1,path=B.sock,%s " % GUEST_DEVARGS +
              "-- --size S --burst %d --period %g --periods %d --warmup 1%s"
              "  (TSO cell: --size %d --tso %d)"
              % (args.burst, args.period_sec, args.periods, " --check" if args.check else "",
                 args.tso_size, args.tso_mss))
    loads = [r.get("foreign_cpu_pct", 0) for r in results.values() if "foreign_cpu_pct" in r]
    busiest = max(loads) if loads else 0
    noisy = ""
    if busiest >= QUIET_LIMIT_PCT:
        tops = sorted({t.split("[")[0] for r in results.values() for t in r.get("foreign_top", [])})
        noisy = ("\n**This run was disturbed.** Other processes on the machine (not started "
                 "by the runner: %s) used up to %.0f%% of a CPU during the measured periods "
                 "(column \"other procs' CPU\", summed over both CPUs). With only two CPUs, "
                 "each already holding one busy poller, every such percent is taken from "
                 "the generator or the forwarding worker. Absolute figures are therefore "
                 "low and noisy; the ratio between the backends is the figure to read, and "
                 "only where the two rows saw similar disturbance. Re-run on a quiet machine "
                 "(the runner waits up to --wait-quiet seconds for one).\n"
                 % (", ".join(tops) or "?", busiest))
    lines = [
        "# End-to-end throughput: net_vdevpeer against net_vhost",
        "",
        "Written by `perf/run-e2e.py`; do not edit by hand, re-run it.",
        "",
        "Run %s." % started,
        "",
        "## Machine",
        "",
        "- CPU: %s, %d CPUs (as the VM sees them), %s RAM" % (m["cpu"], m["ncpu"], m["mem"]),
        "- Kernel: %s" % m["kernel"],
        "- DPDK: %s; hugepages not used (`--no-huge`, memfd-backed memory)" % m["dpdk"],
        "",
        "## Command",
        "",
        "```",
        cmdline,
        "```",
        "",
        "Each cell is %s: the runner starts the forwarding app with the two ports of one "
        "backend, then the generator guest, waits until the app reports both links up and the "
        "guest sees both links up, drops one warm-up period of %g s and measures %d periods "
        "of %g s. The figure is the frame rate received by the guest on its second port; the "
        "spread is the min and max of the per-period rates.%s"
        % ("one run" if args.rounds == 1 else "%d runs" % args.rounds,
           args.period_sec, args.periods, args.period_sec,
           "" if args.rounds == 1 else
           " The backends take turns, round by round (each round starts with the next "
           "backend). A cell's figure is its best round's median, with that round's Gbit/s, "
           "tx rate and worker busy; `worker ns/frame` is the lowest of the rounds', `lost` "
           "the sum over all rounds and the CPU columns the worst round's; min and max are "
           "over the periods of all its rounds, so a wide spread shows a disturbed round. "
           "This host's speed changes over minutes, for traffic between the two vCPUs only "
           "(probably nearer or farther physical cores: a 64 B worker then needs ~115 "
           "instead of ~50 ns per frame), so "
           "a single run per backend can compare a fast minute with a slow one; the best "
           "of several rounds compares both backends in the host's fast state."),
        "",
        "Processes and placement (checked by the runner from argv before starting and from "
        "the threads' real CPU affinity while running; it refuses any set-up that would put "
        "two busy pollers on one CPU):",
        "",
        "```",
        app_cmd,
        "  (" + app_cmd_vh + ")",
        "  main lcore 0 on CPU 0 sleeps; worker lcore 1 on CPU 1 forwards port 0 <-> port 1",
        gg_cmd,
        "  one lcore, on CPU 0: tx burst on port 0, rx burst on port 1, in one loop",
        "```",
        "",
    ] + tso_text(args, cells, results) + [
        "Guest devargs are the same for every backend: `%s` — virtio_user's defaults spelt "
        "out (split ring, 1024 descriptors per queue). All backends offer "
        "VIRTIO_NET_F_MRG_RXBUF. VIRTIO_F_IN_ORDER is offered, hence negotiated, by net_vhost "
        "and by net_vdevpeer with `zerocopy=off` (`vdevpeer-copy`), but not by net_vdevpeer "
        "as it ships (`vdevpeer`, `zerocopy=auto`): zero-copy gives guest TX buffers back out "
        "of order. DPDK's virtio_user guest is slower without IN_ORDER (it must walk its "
        "descriptor free list), so the `vdevpeer` rows pay that guest-side cost, at every "
        "frame size, although only frames from the zero-copy threshold up are attached "
        "rather than copied." % GUEST_DEVARGS,
        "",
        "Frame size is the Ethernet frame without FCS, as handed to the guest's tx_burst and "
        "counted by ethdev. **Gbit/s counts frame bytes only: no FCS, no preamble, no "
        "inter-frame gap** (add 24 B per frame for the wire rate of a real NIC). 9000 B "
        "frames are sent as one segment (the generator's tx pool has a large data room) and "
        "arrive as chains of 2 KB mbufs (mergeable rx buffers). The app's own mbufs are 2 KB, "
        "so both backends build chains there too.",
        "",
        "## Results",
        noisy,
        md_table(rows),
        "",
        "`tx Mpps (offered)` is what the guest's tx_burst accepted; `lost` is frames accepted "
        "on tx but never received (dropped by the backend, mostly when the receiving guest's "
        "ring was full); `rate vs vhost` is the ratio of that row's median rate to "
        "net_vhost's. `worker busy` is the share of the forwarding worker's cycles spent in "
        "polling rounds that received frames, and `worker ns/frame` those cycles per frame "
        "(the app's own accounting, /vdevpeer/fwd/lcores, sampled over the measured periods): "
        "what the backend costs per frame, whether or not the generator kept it saturated. "
        "`cost vs vhost` is net_vhost's ns/frame divided by the row's: above 1, the backend "
        "needs less CPU per frame than net_vhost. `other procs' CPU` is "
        "the CPU time (percent of one CPU, both CPUs summed) that processes not started by "
        "the runner used during the measured periods; `CPU got` is the share of its CPU "
        "that the app's worker thread and the generator actually got (100% = never "
        "preempted).",
        "",
    ]
    if png_ok:
        lines += ["![Mpps per frame size](benchmarks.png)", ""]
    lines += [
        "## Reading these numbers",
        "",
        "- One machine with 2 vCPUs: the generator (both guests) shares one CPU, the "
        "backend's single worker has the other. Whichever of the two saturates first sets "
        "the rate, so the rate ratio understates a backend difference when the generator is "
        "the bottleneck: then `worker busy` is well below the ~93% a saturated worker shows "
        "(a round that finds the generator's ring momentarily empty counts as idle even "
        "under full load), and `cost vs vhost` is the comparison that still holds. Compare "
        "the `tx Mpps` column with the rx column: equal means nothing was lost in the "
        "backend.",
        "- The generator writes only the sequence number and lengths per frame (header and "
        "pattern are written once into the tx pool), so its cost per frame hardly depends on "
        "the size; net_vhost and `vdevpeer-copy` copy every byte twice (guest tx buffer -> "
        "mbuf -> guest rx buffer), `vdevpeer` once for frames it attaches (guest tx buffer -> "
        "guest rx buffer; only the first 128 bytes go through an mbuf).",
        "- Virtual CPUs: absolute rates depend on the host and its load; report ratios. "
        "When `CPU got` is well below 100% although ours plus other processes' CPU adds up "
        "to less than the 200% the two CPUs have, the vCPUs themselves were not running: "
        "the host was oversubscribed (this kernel reports no steal time). Compare two rows "
        "only where their `CPU got` columns are alike.",
        "",
    ]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="64,256,1518,9000",
                    help="frame sizes in bytes without FCS (default 64,256,1518,9000)")
    ap.add_argument("--periods", type=int, default=5, help="measured periods per run (default 5)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run every (size, backend) cell this many times, the backends "
                         "taking turns, and merge the rounds (default 1). On a shared host "
                         "whose speed changes over minutes, rounds spread those changes "
                         "over all backends instead of penalising whichever ran then")
    ap.add_argument("--period-sec", type=float, default=2.0, help="seconds per period (default 2)")
    ap.add_argument("--backends", default=",".join(BACKENDS),
                    help="comma list of %s (default both)" % ",".join(BACKENDS))
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
    ap.add_argument("--check", action="store_true",
                    help="have the generator verify pattern and order of every frame")
    ap.add_argument("--app-lcores", default=APP_LCORES, help="app -l list (default %s)" % APP_LCORES)
    ap.add_argument("--guest-lcores", default=GUEST_LCORES,
                    help="generator --lcores (default %s)" % GUEST_LCORES)
    ap.add_argument("--wait-quiet", type=float, default=60.0,
                    help="before each run wait up to this many seconds for other processes "
                         "to leave the CPUs idle (default 60; 0: do not wait)")
    args = ap.parse_args()

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error("--sizes %s: expected a comma list of integers" % args.sizes)
    if not sizes or any(s < 60 or s > 9600 for s in sizes):
        ap.error("--sizes %s: every size must be in 60..9600" % args.sizes)
    cells = [Cell(s) for s in sizes]
    if args.tso_size:
        if not 1600 <= args.tso_size <= 65407 or not 536 <= args.tso_mss <= 9000:
            ap.error("--tso-size must be in 1600..65407 and --tso-mss in 536..9000")
        cells.append(Cell(args.tso_size, args.tso_mss))
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

    cmdline = "python3 perf/run-e2e.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    workdir = tempfile.mkdtemp(prefix="vdp-e2e-")
    results = {}
    failed = 0
    try:
        total = len(cells) * len(backends) * args.rounds
        n = 0
        for cell in cells:
            runs = {b: [] for b in backends}
            for rnd in range(args.rounds):
                # each round starts with the next backend: no backend is
                # always the one that runs right after another
                order = backends[rnd % len(backends):] + backends[:rnd % len(backends)]
                for backend in order:
                    n += 1
                    log("[%d/%d] %s, %s B frames%s" % (n, total, backend, cell.label,
                                                      ", round %d" % (rnd + 1) if args.rounds > 1 else ""))
                    if args.wait_quiet > 0:
                        wait_quiet(args.wait_quiet, {os.getpid()})
                    tag = "%s-%s-%d" % (backend, cell.label.replace(" ", ""), rnd)
                    try:
                        r = one_run(args, backend, cell, app_cpu, guest_cpu, workdir, tag)
                        log("  => %s Mpps rx (median [min–max]), %.2f Gbit/s, lost %d, "
                            "worker %.1f ns/frame, other procs %.0f%% CPU"
                            % (fmt_mpps(r), r["rx_bps_median"] / 1e9, r["lost"],
                               r.get("worker_ns_per_frame", 0), r.get("foreign_cpu_pct", 0)))
                    except RunError as e:
                        failed += 1
                        log("  FAILED: %s" % e)
                        r = {"backend": backend, "size": cell.size, "cell": cell.label,
                             "error": str(e)}
                    runs[backend].append(r)
            for backend in backends:
                results[(backend, cell)] = merge_rounds(runs[backend])
        rows = table_rows(cells, results)
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
