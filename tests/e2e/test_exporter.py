# SPDX-License-Identifier: BSD-3-Clause
"""tools/dpdk-vdevpeer-exporter: the Prometheus exporter of a running
dpdk-vdevpeer, scraped over HTTP with urllib while guests send, and its
answers parsed with prometheus_client's own parser.

    guest "flood" (testpmd txonly) -- vp0 \\
                                           dpdk-vdevpeer --fwd io|bridge
    guest "sink"  (testpmd rxonly) -- vp1 /      ^ telemetry
                                            exporter <- HTTP (urllib) <- test

A scrape's counters lie between the application's own telemetry read just
before and just after it (frames flow meanwhile), and a second scrape sees
more: every scrape asks the application, nothing is cached. Link state,
negotiated features (against the driver's /vdevpeer/peer), the drop
reasons (against the xstats), the lcore cycle counters and the bridge's
counters are checked; every family has a HELP line; without the
application (or after it stopped) the exporter answers dpdk_vdevpeer_up 0
and keeps serving. docs/metrics.md's table is the exporter's
--dump-metrics.
"""

import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lib import procs as P

EXPORTER = os.path.join(P.REPO, "tools", "dpdk-vdevpeer-exporter")
DOC = os.path.join(P.REPO, "docs", "metrics.md")
NS = "dpdk_vdevpeer_"

# the port counters and the /ethdev/stats field each one is
PORT_COUNTERS = {
    "port_rx_packets_total": "ipackets", "port_tx_packets_total": "opackets",
    "port_rx_bytes_total": "ibytes", "port_tx_bytes_total": "obytes",
    "port_rx_missed_total": "imissed", "port_rx_errors_total": "ierrors",
    "port_tx_errors_total": "oerrors", "port_rx_nombuf_total": "rx_nombuf",
}


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def start_exporter(procs, *args):
    """The exporter on a free port of 127.0.0.1 (port 0: it says which);
    returns (Proc, URL of /metrics)."""
    p = procs.start("exporter", [EXPORTER, "--listen", "127.0.0.1:0"] + list(args))
    m = p.wait_log(r"listening on (http://127\.0\.0\.1:\d+/metrics)", 30)
    return p, m.group(1)


class Scrape:
    """One scrape: its text and families."""

    def __init__(self, text):
        self.text = text
        self.families = list(text_string_to_metric_families(text))
        self.names = {f.name for f in self.families}

    def samples(self, metric, **labels):
        """The samples of NS + metric whose labels include labels."""
        return [s for f in self.families for s in f.samples
                if s.name == NS + metric and all(s.labels.get(k) == str(v) for k, v in labels.items())]

    def value(self, metric, **labels):
        """The value of the one sample of NS + metric with labels."""
        ss = self.samples(metric, **labels)
        assert len(ss) == 1, "%d samples of %s%s %s:\n%s" % (
            len(ss), NS, metric, labels, "\n".join(l for l in self.text.splitlines()
                                                   if l.startswith(NS + metric))[:3000])
        return ss[0].value


def scrape(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        ctype = r.headers.get("Content-Type", "")
        assert ctype.startswith("text/plain"), ctype
        text = r.read().decode()
    check_help(text)
    return Scrape(text)


def check_help(text):
    """Every family has a TYPE line and, before it, a HELP line with text."""
    helps = dict(re.findall(r"^# HELP (\S+) (.*)$", text, re.M))
    types = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M)
    assert types, text[:2000]
    for name, _ in types:
        assert helps.get(name, "").strip(), "no HELP for %s" % name
    # and no sample outside a declared family
    declared = {n for n, _ in types}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            base = re.sub(r"_(count|sum)$", "", name)
            assert name in declared or base in declared, "undeclared sample: %s" % line


def tel(m, cmd):
    v = P.telemetry(m.proc.prefix, cmd)
    assert v is not None, "telemetry %s gave nothing" % cmd
    return v


def flood_and_sink(procs, app_args):
    """dpdk-vdevpeer with vp0 and vp1; a flood (testpmd txonly) into vp0,
    a slower sink (testpmd rxonly) behind vp1; returns the middle once
    frames come out of vp1."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = P.VdevpeerMiddle(procs, [P.PortSpec(a, devargs={"bind": "vp0"}),
                                 P.PortSpec(b, devargs={"bind": "vp1"})],
                         app_args=app_args).start()
    P.Guest(procs, "sink", b, fwd="rxonly", extra_args=["--port-topology=loop"]).start()
    m.wait_ready(b)
    P.Guest(procs, "flood", a, fwd="txonly", extra_args=["--port-topology=loop"]).start()
    m.wait_ready(a)
    P.wait_until(lambda: (P.telemetry(m.proc.prefix, "/ethdev/stats,1") or {}).get("opackets", 0) > 0,
                 30, "frames forwarded to the sink", fail_if=m.proc.died_msg)
    return m


def split_xstat(name):
    m = re.match(r"^(rx|tx)_(?:q(\d+)_)?(.+)$", name)
    return (m.group(1), m.group(2), m.group(3)) if m else (None, None, name)


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------

def test_exporter_scrape_matches_app(procs, app):
    m = flood_and_sink(procs, ["--fwd", "io"])
    binds = tel(m, "/vdevpeer/ports")
    assert binds == {"vp0": 0, "vp1": 1}, binds
    exp, url = start_exporter(procs, "--file-prefix", m.proc.prefix)

    before = {p: tel(m, "/ethdev/stats,%d" % p) for p in (0, 1)}
    xs_before = {p: tel(m, "/ethdev/xstats,%d" % p) for p in (0, 1)}
    s = scrape(url)
    after = {p: tel(m, "/ethdev/stats,%d" % p) for p in (0, 1)}
    xs_after = {p: tel(m, "/ethdev/xstats,%d" % p) for p in (0, 1)}

    assert s.value("up") == 1
    info = tel(m, "/info")
    assert s.value("info", pid=info["pid"], dpdk_version=info["version"]) == 1

    for bind, port in binds.items():
        lab = {"port": port, "name": bind}
        assert s.value("port_info", ethdev="net_vdevpeer%d" % port, driver="net_vdevpeer", **lab) == 1
        # the port counters: taken between the two direct reads
        for metric, key in PORT_COUNTERS.items():
            v = s.value(metric, **lab)
            assert before[port][key] <= v <= after[port][key], \
                "%s %s: scrape %d, telemetry before %d, after %d" % (
                    metric, bind, v, before[port][key], after[port][key])
        # one queue each way: queue 0 only
        for metric, key in (("queue_rx_packets_total", "q_ipackets"),
                            ("queue_tx_packets_total", "q_opackets"),
                            ("queue_rx_bytes_total", "q_ibytes"),
                            ("queue_tx_bytes_total", "q_obytes"),
                            ("queue_rx_errors_total", "q_errors")):
            assert [x.labels["queue"] for x in s.samples(metric, **lab)] == ["0"], metric
            v = s.value(metric, queue=0, **lab)
            assert before[port][key][0] <= v <= after[port][key][0], (metric, bind)
        assert s.value("port_link_up", **lab) == 1
        assert s.value("port_link_speed_bits_per_second", **lab) > 0

        # every xstat of the port is in the scrape: the drops by reason,
        # the rest one family each, within the two direct reads
        xb, xa = xs_before[port], xs_after[port]
        assert set(xb) == set(xa)
        n_drop = 0
        for xname in xb:
            direction, queue, rest = split_xstat(xname)
            assert queue is None, "one queue: no per-queue xstat expected (%s)" % xname
            if direction and rest.startswith("drop_"):
                v = s.value("drops_total", direction=direction, reason=rest[5:], **lab)
                n_drop += 1
            else:
                fam = "xstat_" + rest + ("" if xname in ("features_negotiated", "features_active",
                                                        "vmm_guest_memory_maps",
                                                        "vmm_guest_memory_maps_zc",
                                                        "rx_zc_inflight") else "_total")
                v = s.value(fam, **dict(lab, **({"direction": direction} if direction else {})))
            lo, hi = sorted((xb[xname], xa[xname]))     # gauges may go down
            assert lo <= v <= hi, "%s of %s: scrape %d, telemetry %d then %d" % (
                xname, bind, v, xb[xname], xa[xname])
        assert n_drop >= 40, "only %d drop reasons" % n_drop
        assert len(s.samples("drops_total", **lab)) == n_drop
        assert all(x.labels["direction"] in ("rx", "tx") and x.labels["reason"]
                   for x in s.samples("drops_total", **lab))

        # negotiated features: the driver's
        peer = tel(m, "/vdevpeer/peer,%d" % port)
        neg = int(peer["negotiated"], 16)
        assert neg != 0
        assert s.value("guest_features_negotiated", **lab) == neg
        assert s.value("guest_features_offered", **lab) == int(peer["offered"], 16)
        feats = s.samples("guest_feature", **lab)
        on = {x.labels["feature"]: int(x.labels["bit"]) for x in feats if x.value == 1}
        assert set(on) == set(peer["negotiated_names"]), (on, peer["negotiated_names"])
        assert sum(1 << b for b in on.values()) == neg
        assert s.value("guest_running", **lab) == 1
        assert s.value("guest_info", socket=peer["socket"], role="server", state="running",
                       ring_layout=peer["ring_layout"], **lab) == 1

    # the flood went in at vp0 and out at vp1
    assert s.value("port_rx_packets_total", port=0) > 0
    assert s.value("port_tx_packets_total", port=1) > 0

    # worker lcore 1: its cycles, busy part of them (rate() of both gives
    # the busy share)
    lc = tel(m, "/vdevpeer/fwd/lcores")
    assert s.value("tsc_hz") == lc["tsc_hz"]
    cycles = s.value("lcore_cycles_total", lcore=1)
    busy = s.value("lcore_busy_cycles_total", lcore=1)
    assert 0 < busy <= cycles <= lc["lcore1"]["cycles"], (busy, cycles, lc["lcore1"])
    assert s.value("lcore_frames_total", lcore=1) > 0
    assert 0 < s.value("lcore_busy_rounds_total", lcore=1) <= s.value("lcore_frames_total", lcore=1)
    assert s.value("lcore_info", lcore=1, rx_mode=lc["lcore1"]["rx_mode"]) == 1
    assert s.samples("lcore_wake_latency_cycles_count", lcore=1)
    assert s.value("mempool_size", pool="vdp_mbuf_s0") >= 8192
    assert not s.samples("bridge_macs"), "no bridge in --fwd io"

    # each scrape asks the application: the flood goes on, so a later
    # scrape sees more frames
    first = s.value("port_rx_packets_total", port=0)
    P.wait_until(lambda: scrape(url).value("port_rx_packets_total", port=0) > first, 20,
                 "a later scrape with more frames than %d" % first, fail_if=exp.died_msg)

    # the application goes away: up 0, nothing else, the exporter serves on
    assert m.stop() == 0
    gone = scrape(url)
    assert gone.value("up") == 0
    assert gone.names == {NS + "up", NS + "scrape_duration_seconds"}, gone.names
    assert exp.alive()
    assert exp.stop() == 0, exp.tail()


def test_exporter_without_app(procs):
    """No application: every scrape says up 0 (and the exporter lives on);
    --once says so too and exits 1; a socket nobody listens on (a killed
    application's) is the same."""
    prefix = procs.new_prefix("none")
    exp, url = start_exporter(procs, "--file-prefix", prefix)
    for _ in range(2):
        s = scrape(url)
        assert s.value("up") == 0
        assert s.names == {NS + "up", NS + "scrape_duration_seconds"}, s.names
    assert exp.alive()
    assert "dpdk_vdevpeer_up 0" in exp.output()        # said once on stderr
    # another path than /metrics
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url.replace("/metrics", "/nosuch"), timeout=30)
    assert e.value.code == 404
    assert exp.stop() == 0, exp.tail()

    stale = procs.sock("stale.sock")
    P.make_stale_socket(stale)
    for args in (["--file-prefix", prefix], ["--telemetry-socket", stale]):
        r = subprocess.run([EXPORTER, "--once"] + args, capture_output=True, text=True, timeout=60)
        assert r.returncode == 1, r.stdout + r.stderr
        check_help(r.stdout)
        assert Scrape(r.stdout).value("up") == 0
        assert "telemetry:" in r.stderr


def test_exporter_bridge(procs, app):
    """--fwd bridge: the bridge's per-port counters, drops by reason, and
    --once on a running application."""
    m = flood_and_sink(procs, ["--fwd", "bridge"])
    before = tel(m, "/vdevpeer/bridge/stats")
    r = subprocess.run([EXPORTER, "--once", "--file-prefix", m.proc.prefix],
                       capture_output=True, text=True, timeout=60)
    after = tel(m, "/vdevpeer/bridge/stats")
    assert r.returncode == 0, r.stdout + r.stderr
    check_help(r.stdout)
    s = Scrape(r.stdout)
    assert s.value("up") == 1
    assert s.value("bridge_macs") >= 1          # the flood's source
    assert s.value("bridge_aging_seconds") == before["aging"]
    for bind, port in (("vp0", 0), ("vp1", 1)):
        lab = {"port": port, "name": bind}
        reasons = set()
        for counter, b in before[bind].items():
            if counter == "port":
                continue
            if counter.startswith("drop_"):
                v = s.value("bridge_drops_total", reason=counter[5:], **lab)
                reasons.add(counter[5:])
            else:
                v = s.value("bridge_%s_total" % counter, **lab)
            assert b <= v <= after[bind][counter], "%s %s: %d, telemetry %d then %d" % (
                bind, counter, v, b, after[bind][counter])
        assert {x.labels["reason"] for x in s.samples("bridge_drops_total", **lab)} == reasons
        assert len(reasons) >= 5
    assert s.value("bridge_rx_total", name="vp0") > 0
    assert s.value("bridge_flooded_total", name="vp0") > 0
    assert s.value("bridge_tx_total", name="vp1") > 0
    assert s.samples("lcore_busy_cycles_total", lcore=1)
    assert m.stop() == 0


def test_metrics_doc_matches_exporter():
    """docs/metrics.md's table is the exporter's --dump-metrics (paste it
    there when a family changes)."""
    dump = subprocess.run([EXPORTER, "--dump-metrics"], capture_output=True, text=True,
                          timeout=30, check=True).stdout
    with open(DOC) as f:
        doc = f.read()
    block = re.search(r"<!-- BEGIN METRICS -->\n(?:<!--.*-->\n)?(.*?)<!-- END METRICS -->", doc, re.S)
    assert block, "no METRICS block in docs/metrics.md"
    assert block.group(1) == dump, "docs/metrics.md is stale: replace its table with " \
        "tools/dpdk-vdevpeer-exporter --dump-metrics"
