# SPDX-License-Identifier: BSD-3-Clause
"""CPU placement and CPU load for perf/run-e2e.py: which CPUs the app's
worker and the generator busy-poll (from their argv before the start, from
their threads' real affinity while they run; two pollers on one CPU are
refused), and how much CPU other processes take (waiting for a quiet
machine, measuring the disturbance of a run)."""

import os
import re
import time

from .common import QUIET_LIMIT_PCT, RunError, log


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
