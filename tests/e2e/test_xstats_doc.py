# SPDX-License-Identifier: BSD-3-Clause
"""docs/xstats.md, the driver's xstats and the bridge's counters come from
the same counter lists: the generated tables match the app's --dump-xstats,
a running port reports exactly the documented xstat names, and a running
bridge exactly the documented counters."""
import os
import re
import subprocess

import pytest

from lib import procs as P
from lib.procs import PortSpec
from test_console import Console

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "xstats.md")
BEGIN, END = "<!-- BEGIN XSTATS -->\n", "<!-- END XSTATS -->"


def dump(app):
    return subprocess.run([app, "--", "--dump-xstats"], capture_output=True, text=True,
                          timeout=10, check=True).stdout


BRIDGE = "### Bridge counters"


def documented_names(text):
    """Every xstat name of the port table, {rx,tx}_x as rx_x and tx_x."""
    names = []
    for name in re.findall(r"^\| `([^`]+)` \|", text.split(BRIDGE)[0], re.M):
        if name.startswith("{rx,tx}_"):
            names += ["rx_" + name[8:], "tx_" + name[8:]]
        else:
            names.append(name)
    return names


def test_dump_xstats_matches_docs(app):
    """Regenerate docs/xstats.md with ci/gen-docs.sh when counters change."""
    gen = dump(app)
    with open(DOC) as f:
        doc = f.read()
    assert BEGIN in doc and END in doc, "docs/xstats.md lacks the generated block"
    block = doc[doc.index(BEGIN) + len(BEGIN):doc.index(END)]
    assert block.strip() == gen.strip(), "docs/xstats.md is stale: run ci/gen-docs.sh"


def test_port_reports_the_documented_xstats(procs, app):
    """The names a port reports (telemetry /ethdev/xstats) are the documented
    ones, each once, none missing, none extra."""
    doc = documented_names(dump(app))
    assert len(doc) == len(set(doc)), "a name documented twice"
    sock = procs.sock("p0.sock")
    m = P.VdevpeerMiddle(procs, [PortSpec(sock)], app_args=["--fwd", "rxonly"]).start()
    m.proc.wait_log(r"Forwarding started \(")
    got = P.telemetry(m.proc.prefix, "/ethdev/xstats,0")
    assert got, "no xstats from port 0"
    # the ethdev layer adds its own generic counters before ours
    ours = [n for n in got if n not in GENERIC]
    assert sorted(ours) == sorted(doc), (
        "reported, not documented: %s; documented, not reported: %s"
        % (sorted(set(ours) - set(doc)), sorted(set(doc) - set(ours))))


def test_bridge_reports_the_documented_counters(procs, app):
    """The per-port counters of a running bridge (telemetry
    /vdevpeer/bridge/stats) are the documented ones, in that order."""
    text = dump(app)
    assert BRIDGE in text, "--dump-xstats has no bridge counters"
    doc = re.findall(r"^\| `([^`]+)` \|", text.split(BRIDGE)[1], re.M)
    socks = [procs.sock("p%d.sock" % i) for i in range(2)]
    m = P.VdevpeerMiddle(procs, [PortSpec(s) for s in socks],
                         app_args=["--fwd", "bridge"]).start()
    m.proc.wait_log(r"Forwarding started \(")
    got = P.telemetry(m.proc.prefix, "/vdevpeer/bridge/stats")
    assert got, "no bridge stats"
    ports = [v for v in got.values() if isinstance(v, dict)]
    assert len(ports) == 2, got
    for per_port in ports:
        assert [k for k in per_port if k != "port"] == doc, per_port


# ethdev's basic stats as xstats (rte_eth_xstats_get adds them for every port)
GENERIC = {"rx_good_packets", "tx_good_packets", "rx_good_bytes", "tx_good_bytes",
           "rx_missed_errors", "rx_errors", "tx_errors", "rx_mbuf_allocation_errors"}


def console_xstats(con, port):
    """{name: value} of every xstat of port, from the console (DPDK 22.11's
    telemetry cuts a dictionary at 256 entries: a multi-queue port has more)."""
    out = con.cmd("show port xstats %d" % port)
    return {k: int(v) for k, v in re.findall(r"^\s+(\w+)\s+(\d+)\s*$", out, re.M)}


def test_per_queue_xstats(procs, request, app):
    """A port with two queues reports every direction counter per queue
    (rx_q<N>_, tx_q<N>_), from the same lists as the totals; a guest that
    uses queue 0 only shows its frames in q0 and the totals alike."""
    doc = documented_names(dump(app))
    sock = procs.sock("mq.sock")
    con = Console(procs, request, ["net_vdevpeer0,peer=%s,server=1,queues=2" % sock],
                  ["--fwd", "rxonly", "--rxq", "2", "--txq", "2", "--auto-start"])
    names = set(console_xstats(con, 0))
    for q in (0, 1):
        for d in ("rx", "tx"):
            per_dir = [n for n in doc if n.startswith(d + "_")]
            assert per_dir, doc
            missing = [n for n in per_dir if "%s_q%d_%s" % (d, q, n[3:]) not in names]
            assert not missing, "queue %d lacks %s" % (q, missing[:5])
    assert not [n for n in names if n.startswith("rx_q2_") or n.startswith("tx_q2_")]
    g = P.Guest(procs, "flood", sock, fwd="txonly", extra_args=["--port-topology=loop"]).start()
    P.wait_until(lambda: console_xstats(con, 0).get("rx_size_64_packets", 0) >= 1000, 30,
                 "64-byte frames from the guest", fail_if=g.proc.died_msg)
    g.stop()
    final = console_xstats(con, 0)
    assert final["rx_q0_size_64_packets"] >= 1000, final
    assert final["rx_q1_size_64_packets"] == 0
    for n in doc:
        if n.startswith("rx_") or n.startswith("tx_"):
            d = n[:2]
            assert final[n] == final["%s_q0_%s" % (d, n[3:])] + final["%s_q1_%s" % (d, n[3:])], n
