# SPDX-License-Identifier: BSD-3-Clause
"""The results of perf/run-e2e.py: rounds merged into one result per
(backend, cell), the console table and the markdown report
(docs/benchmarks.md)."""

import os
import platform
import statistics
import subprocess

from .common import BACKENDS, EAL_COMMON, GUEST_DEVARGS, GUEST_TESTPMD_LCORES, QUIET_LIMIT_PCT


def eal_text(args):
    """The EAL options of the run's processes as the report prints them (a
    --huge run's mount path as <hugetlbfs>)."""
    eal = getattr(args, "eal", EAL_COMMON)
    return " ".join("<hugetlbfs>" if i > 0 and eal[i - 1] == "--huge-dir" else a
                    for i, a in enumerate(eal))


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
    # every round's cost and frames per busy round, in the order run (None:
    # failed or not counted), for the per-round table
    out["worker_ns_rounds"] = [r.get("worker_ns_per_frame") for r in runs]
    out["frames_per_round_rounds"] = [r.get("worker_frames_per_round") for r in runs]
    out["fill_rounds"] = [r.get("worker_fill") for r in runs]
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


def limit_col(cell, r, limits):
    """The copy limit of the cell's frame size (bench_copy's cross-core
    copy, ns/frame) and the share of it the row's worker reaches."""
    lim = (limits or {}).get(cell.size) if not cell.tso_mss else None
    ns = r.get("worker_ns_per_frame")
    if not lim:
        return "–"
    return "%.1f (%.0f%%)" % (lim, 100.0 * lim / ns) if ns else "%.1f" % lim


def table_rows(cells, results, limits=None):
    rows = []
    for cell in cells:
        vh = results.get(("vhost", cell))
        for backend in BACKENDS:
            r = results.get((backend, cell))
            if r is None:
                continue
            if "error" in r:
                rows.append([cell.label, backend, "FAILED", "–", "–", "–", "–",
                             r["error"].splitlines()[0][:70], "", "", "", "", "", ""])
                continue
            ns = r.get("worker_ns_per_frame")
            rows.append([cell.label, backend, fmt_mpps(r),
                         "%.2f" % (r["rx_bps_median"] / 1e9),
                         "%.3f" % (r["tx_pps_median"] / 1e6),
                         ratio(r, vh, "rx_pps_median") if backend != "vhost" else "",
                         "%.0f%%" % r.get("worker_busy_pct", 0),
                         "%.1f" % ns if ns else "–",
                         ratio(r, vh, "worker_ns_per_frame", invert=True) if backend != "vhost" else "",
                         "%.1f" % r["worker_frames_per_round"]
                         if r.get("worker_frames_per_round") else "–",
                         "%d" % r["lost"],
                         "%.0f%%" % r.get("foreign_cpu_pct", 0),
                         "%.0f%% / %.0f%%" % (r.get("worker_cpu_pct", 0), r.get("guest_cpu_pct", 0)),
                         limit_col(cell, r, limits)])
    return rows


HEADER = ["size (B)", "backend", "rx Mpps median [min–max]", "rx Gbit/s",
          "tx Mpps (offered)", "rate vs vhost", "worker busy", "worker ns/frame",
          "cost vs vhost", "frames per busy round", "lost", "other procs' CPU",
          "CPU got: worker / guest", "copy limit ns (share)"]


def print_table(rows):
    w = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADER)]
    print()
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(HEADER)))
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
    print(flush=True)


def rounds_table(cells, results):
    """Markdown lines: each (cell, backend)'s worker ns/frame round by round
    and their median, with net_vhost's over ours per round and of the
    medians (the best-round figures of the main table pick one round each,
    and one unusually fast or slow round decides them)."""
    def med(v):
        v = [x for x in v if x]
        return statistics.median(v) if v else None

    def fmt(v):
        return "%.1f" % v if v else "–"

    out = ["| size (B) | backend | worker ns/frame, round by round | median | "
           "frames per busy round, by round | cost vs vhost, by round | of the medians |",
           "|---|---|---|---:|---|---|---:|"]
    for cell in cells:
        vh = results.get(("vhost", cell))
        vh_ns = vh.get("worker_ns_rounds", []) if vh else []
        for backend in BACKENDS:
            r = results.get((backend, cell))
            if r is None or "worker_ns_rounds" not in r:
                continue
            ns = r["worker_ns_rounds"]
            fpr = r.get("frames_per_round_rounds", [])
            per, of_med = "", ""
            if backend != "vhost" and vh_ns:
                per = " ".join("%.2f" % (h / o) if h and o else "–" for o, h in zip(ns, vh_ns))
                if med(ns) and med(vh_ns):
                    of_med = "%.2f" % (med(vh_ns) / med(ns))
            out.append("| %s | %s | %s | %s | %s | %s | %s |"
                       % (cell.label, backend, " ".join(fmt(v) for v in ns), fmt(med(ns)),
                          " ".join(fmt(v) for v in fpr), per, of_med))
    return out


def fill_table(cells, results):
    """Markdown lines: each (cell, backend)'s busy rounds by the frames they
    received, round by round: "fill: share of the busy rounds, ns per frame
    in those rounds" for the fills of at least 5% of them. The guests set
    the fill; comparing two rows at the same fill compares the backends'
    (or the layouts') own cost per frame."""
    out = ["| size (B) | backend | by round: frames per busy round: share of the busy rounds, "
           "worker ns/frame in them |",
           "|---|---|---|"]
    for cell in cells:
        for backend in BACKENDS:
            r = results.get((backend, cell))
            fr = r.get("fill_rounds") if r else None
            if not fr or not any(fr):
                continue
            out.append("| %s | %s | %s |" % (
                cell.label, backend, " / ".join(
                    ", ".join("%d: %.0f%% %.1f" % f for f in one) if one else "–"
                    for one in fr)))
    return out


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


def workload_text(args, cells):
    """What the loop and oneway cells run (perf/run-e2e.py workload_run)."""
    wl = {c.workload for c in cells}
    if wl == {"gen"}:
        return []
    guest = ("%s " % args.testpmd + eal_text(args) + " --lcores %s --file-prefix <unique> "
             % GUEST_TESTPMD_LCORES + "--vdev net_virtio_user0,path=A.sock,%s " % GUEST_DEVARGS)
    out = ["Cells marked `loop` and `oneway` run a stock testpmd as the guest instead of the "
           "generator, the workloads users run:", ""]
    if "loop" in wl:
        out += ["- `loop`: `%s--vdev net_virtio_user1,path=B.sock,%s -- -i --nb-cores=1 "
                "--burst=%d --mbuf-size=M --txpkts=S --total-num-mbufs=16384 --forward-mode=io` (M "
                "2176, 10240 for 9000 B), then "
                "`start tx_first 32`: ~2048 frames circulate A → backend → B → guest → B → "
                "backend → A; the backend forwards both directions on its one worker. The "
                "rate is the frames both backend ports received per second (its own ethdev "
                "counters, read over telemetry at each period's end)."
                % (guest, GUEST_DEVARGS, args.burst), ""]
    if "oneway" in wl:
        out += ["- `oneway`: `%s-- -i --nb-cores=1 --burst=%d --mbuf-size=M --txpkts=S "
                "--total-num-mbufs=16384 --forward-mode=txonly`, `start`: guest to host, one "
                "way; the backend's second port is `net_null1,no-rx=1` (the host's side, "
                "which takes everything). The rate is what the guest port received per "
                "second." % (guest, args.burst), ""]
    out += ["Backends: the same app and lcores as the generator cells, and `vhost-testpmd`: "
            "net_vhost's two ports in stock testpmd (`%s " % args.testpmd + eal_text(args)
            + " -l %s --vdev net_vhost0,iface=A.sock --vdev net_vhost1,iface=B.sock -- "
            "--forward-mode=io --record-core-cycles --nb-cores=1`), net_vhost in its leanest "
            "loop. Its `worker ns/frame` is testpmd's own `CPU cycles/packet` (the cycles of "
            "polls that received frames) over the whole run, warm-up included; the app's "
            "rows use the app's accounting over the measured periods. `tx Mpps (offered)` "
            "is what the guest's ports sent per second." % args.app_lcores, ""]
    return out


def write_markdown(args, cells, results, rows, m, started, png_ok, cmdline):
    app_cmd = ("build/app/dpdk-vdevpeer " + eal_text(args) +
               " -l %s --file-prefix <unique> " % args.app_lcores +
               "--vdev net_vdevpeer0,peer=A.sock,server=1 --vdev net_vdevpeer1,peer=B.sock,server=1 "
               "-- --fwd io --stats-period %d" % max(1, int(args.period_sec)))
    app_cmd_vh = ("same, with ,zerocopy=off added to both --vdev net_vdevpeerN (vdevpeer-copy); "
                  "same, with --vdev net_vhost0,iface=A.sock --vdev net_vhost1,iface=B.sock (vhost; "
                  "each with ,tso=1 in the TSO cell)")
    gg_cmd = ("build/perf/vdp-guestgen " + eal_text(args) +
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
        "- DPDK: %s; %s" % (m["dpdk"], (
            "every process's memory in 2 MB hugepages (`--huge`: a hugetlbfs mount of the "
            "runner's own; the backend maps the guests' memory in 2 MB pages too)"
            if getattr(args, "huge", False) else
            "hugepages not used (`--no-huge`, memfd-backed memory in 4 KB pages)")),
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
           "backend)%s. A cell's figure is its best round's median, with that round's Gbit/s, "
           "tx rate and worker busy; `worker ns/frame` is the lowest of the rounds', `lost` "
           "the sum over all rounds and the CPU columns the worst round's; min and max are "
           "over the periods of all its rounds, so a wide spread shows a disturbed round. "
           "This host's speed changes over minutes, for traffic between the two vCPUs only "
           "(probably nearer or farther physical cores: a 64 B worker then needs ~115 "
           "instead of ~50 ns per frame), so "
           "a single run per backend can compare a fast minute with a slow one; the best "
           "of several rounds compares both backends in the host's fast state." %
           ("; the rounds run one after the other, each with every cell (`--interleave`)"
            if args.interleave else "")),
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
        "VIRTIO_NET_F_MRG_RXBUF and VIRTIO_F_IN_ORDER, so the guests run their in-order "
        "paths everywhere. net_vdevpeer as it ships (`vdevpeer`, `zerocopy=auto`) attaches "
        "frames of 2048 B and more and gives their buffers back in ring order (copied "
        "ones queued behind held ones); `vdevpeer-copy` (`zerocopy=off`) copies every "
        "frame." % GUEST_DEVARGS,
        "",
    ] + ([
        "Cells marked `packed` / `packed-vec` run the same guests on packed virtqueues: "
        "`packed_vq=1` instead of `packed_vq=0` (`packed-vec`: also `vectorized=1` and "
        "`mrg_rxbuf=0`, and `--force-max-simd-bitwidth=512` for the guest's EAL: DPDK's "
        "AVX-512 packed paths, Rx and Tx; virtio_user takes its vectorised Rx path only "
        "without MRG_RXBUF).",
        "",
    ] if any(c.ring != "split" for c in cells) else []) + ([
        "Cells marked `Nq` (e.g. `64 4q`) run N queue pairs: `queues=N` in the guest "
        "devargs and on both ports of either backend, the app with `--rxq N --txq N` (its "
        "one worker polls the N queues of both ports), the generator with `--queues N` "
        "(bursts sent on the N tx queues in turn, all N rx queues polled each loop).",
        "",
    ] if any(c.queues > 1 for c in cells) else []) + workload_text(args, cells) + [
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
        "`copy limit ns (share)`: what copying one frame of that size from one core's "
        "buffer into another's costs on this machine, measured in the same run before "
        "the cells (`build/perf/bench_copy --benchmark_filter=crosscore` with the "
        "generator's and the worker's CPUs: a sender thread writes each frame whole, the "
        "worker's CPU takes them in bursts of 32 and copies each into a ring of receiver "
        "buffers; only the frames and the flag lines move between the cores), and in "
        "brackets that limit divided by the row's worker ns/frame: the share of the "
        "physical limit the backend reaches (100% = nothing but the copy). The limit is "
        "that of a guest that writes every byte of every frame; the generator and the "
        "testpmd guests write only a few header bytes per frame, so a backend can beat "
        "it (over 100%), most at 1518 B and up: lines the guest did not write are not "
        "waited for.",
        "",
        "`tx Mpps (offered)` is what the guest's tx_burst accepted; `lost` is frames accepted "
        "on tx but never received (dropped by the backend, mostly when the receiving guest's "
        "ring was full); `rate vs vhost` is the ratio of that row's median rate to "
        "net_vhost's. `worker busy` is the share of the forwarding worker's cycles spent in "
        "polling rounds that received frames, and `worker ns/frame` those cycles per frame "
        "(the app's own accounting, /vdevpeer/fwd/lcores, sampled over the measured periods): "
        "what the backend costs per frame, whether or not the generator kept it saturated. "
        "`cost vs vhost` is net_vhost's ns/frame divided by the row's: above 1, the backend "
        "needs less CPU per frame than net_vhost. `frames per busy round` is the frames "
        "the worker received per polling round that received any (both ports: at most 2 x "
        "the burst of 32), in the best round (net_vhost in testpmd: `–`, testpmd does not "
        "count rounds). Frames wait in front of whichever side is slower: near 64 with the "
        "worker busy, the worker set the rate and its ns/frame is its own cost at full "
        "bursts; fewer, and each round's fixed costs (a poll of every queue, a publish) are "
        "spread over fewer frames. `other procs' CPU` is "
        "the CPU time (percent of one CPU, both CPUs summed) that processes not started by "
        "the runner used during the measured periods; `CPU got` is the share of its CPU "
        "that the app's worker thread and the generator actually got (100% = never "
        "preempted).",
        "",
    ]
    if args.rounds > 1:
        lines += ["### Round by round", "",
                  "Worker ns/frame of every round (in the order run; %s), their median, "
                  "and net_vhost's over ours in the same round (its run next to ours) and "
                  "of the two medians. On this host one round in a different state decides "
                  "the main table's best-round figures; the medians do not depend on it."
                  % ("each round ran every cell, so rows compare with each other round by "
                     "round (`--interleave`)" if args.interleave else
                     "all rounds of a cell ran before the next cell, so rows minutes apart "
                     "mix host states: compare within a row, or use `--interleave`"),
                  ""] + rounds_table(cells, results) + [""]
    if any(r.get("fill_rounds") and any(r["fill_rounds"]) for r in results.values()):
        lines += ["### By round fill", "",
                  "The worker's busy rounds by the frames each received (both ports; a "
                  "loop cell's are 32 when one guest port had a burst for it and the other "
                  "none, 64 when both had), each fill's share of the busy rounds and the "
                  "worker's ns per frame in those rounds (the app's /vdevpeer/fwd/fill, "
                  "sampled over the measured periods; fills of under 5% of the rounds "
                  "left out), round by round (` / ` between rounds). The guests decide the "
                  "fill, and a round of 32 frames costs more per frame than one of 64 (one "
                  "poll found nothing): rows compared at the same fill compare the "
                  "backends', or the ring layouts', own cost.", ""] + \
            fill_table(cells, results) + [""]
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
