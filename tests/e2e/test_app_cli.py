# SPDX-License-Identifier: BSD-3-Clause
"""dpdk-vdevpeer's command line and process behaviour: --help, errors that
name the offending option or devarg, clean exit on SIGTERM/SIGINT with final
statistics, and no use of stdin."""

import os
import re
import signal
import subprocess

import pytest

from lib import frames as fr
from lib.procs import EAL_COMMON, MIDDLE_LCORES, PortSpec, Transfer, unix_listening, wait_until

OPTIONS = ("--fwd", "--pair", "--rxq", "--txq", "--burst", "--auto-start", "--stats-period", "--help")


def run_app(procs, app, eal_extra, app_args, timeout=30, stdin="devnull"):
    """Run the app to completion; return (exit code, output)."""
    prefix = procs.new_prefix("app")
    argv = [app] + EAL_COMMON + ["-m", "256", "--file-prefix", prefix] + MIDDLE_LCORES + eal_extra + ["--"] + app_args
    p = procs.start("app", argv, prefix=prefix, stdin=stdin)
    rc = p.wait(timeout)
    assert rc is not None, "dpdk-vdevpeer %s still running after %ds:\n%s" % (app_args, timeout, p.tail(30))
    return rc, p.output()


def two_ports(procs, extra0="", extra1=""):
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    return ["--vdev", "net_vdevpeer0,peer=%s,server=1%s" % (a, extra0),
            "--vdev", "net_vdevpeer1,peer=%s,server=1%s" % (b, extra1)]


def test_help(procs, app):
    rc, out = run_app(procs, app, [], ["--help"])
    assert rc == 0, out
    for opt in OPTIONS:
        assert opt in out, "--help does not list %s" % opt
    for mode in ("io", "macswap", "rxonly"):
        assert re.search(r"\b%s\b" % mode, out), "--help does not list fwd mode %s" % mode


@pytest.mark.parametrize("args,name", [
    (["--bogus"], "bogus"),
    (["--fwd", "nosuch"], "fwd"),
    (["--fwd"], "fwd"),
    (["--burst", "0"], "burst"),
    (["--burst", "abc"], "burst"),
    (["--burst", "100000"], "burst"),
    (["--rxq", "0"], "rxq"),
    (["--txq", "1000"], "txq"),
    (["--pair", "0-1"], "pair"),
    (["--pair", "0:7"], "pair"),
    (["--stats-period", "x"], "stats-period"),
    (["--stats-period", "-1"], "stats-period"),
], ids=lambda v: "_".join(v) if isinstance(v, list) else v)
def test_bad_option(procs, app, args, name):
    rc, out = run_app(procs, app, two_ports(procs), args)
    assert rc != 0, "accepted %s" % args
    assert name in out, "no message names %r:\n%s" % (name, out[-2000:])
    assert not re.search(r"(?i)forwarding started", out)


@pytest.mark.parametrize("devarg,name", [
    ("foo=1", "foo"),
    ("mac=zz:00:00:00:00:01", "mac"),
    ("mac=02:00:00:00:01", "mac"),
    ("mac=01:00:5e:00:00:01", "mac"),        # multicast
    ("mac=ff:ff:ff:ff:ff:ff", "mac"),        # broadcast
    ("peerfeats=0xzz", "peerfeats"),
    ("peerfeats=12abc", "peerfeats"),
    ("server=2", "server"),
    ("queues=0", "queues"),
    ("numa_node=4096", "numa_node"),
    ("peer_hold_us=1000001", "peer_hold_us"),
    ("peer_hold_us=-1", "peer_hold_us"),
    ("legacy=yes", "legacy"),
])
def test_bad_devarg(procs, app, devarg, name):
    rc, out = run_app(procs, app, two_ports(procs, extra0="," + devarg), [])
    assert rc != 0, "accepted devarg %s" % devarg
    assert re.search(r"\b%s\b" % re.escape(name), out), "no message names %r:\n%s" % (name, out[-2000:])


def test_bad_devarg_port_not_needed_by_pairs(procs, app):
    """A --vdev that fails to probe is fatal even when the remaining ports
    could be forwarded on their own: the service must not come up without
    a guest port it was asked for."""
    rc, out = run_app(procs, app, two_ports(procs, extra0=",foo=1"), ["--pair", "vp1:vp1"], timeout=20)
    assert rc != 0
    assert "foo" in out


def test_missing_peer(procs, app):
    rc, out = run_app(procs, app, ["--vdev", "net_vdevpeer0,server=1"], ["--fwd", "rxonly"])
    assert rc != 0
    assert "peer" in out


def start_service(procs, app, app_args=(), stdin="devnull"):
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    prefix = procs.new_prefix("app")
    argv = ([app] + EAL_COMMON + ["-m", "256", "--file-prefix", prefix] + MIDDLE_LCORES
            + two_ports(procs) + ["--"] + list(app_args))
    p = procs.start("app", argv, prefix=prefix, stdin=stdin)
    for s in (a, b):
        wait_until(lambda: unix_listening(s), 20, "app listening on %s" % s, fail_if=p.died_msg)
    return p


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_exit(procs, app, sig):
    p = start_service(procs, app)
    p.wait_log(r"(?i)forwarding started", 20)
    before = len(p.output())
    assert p.stop(sig, timeout=15) == 0
    tail = p.output()[before:]
    for port in ("vp0", "vp1"):
        assert port in tail, "final statistics do not show port %s:\n%s" % (port, tail)
    assert re.search(r"(?i)\brx\b.*\d", tail) and re.search(r"(?i)\btx\b.*\d", tail), tail


@pytest.mark.parametrize("stdin", ["closed", "devnull"])
def test_runs_without_stdin(procs, app, stdin):
    """With fd 0 closed or at EOF the service forwards (testpmd would wait
    for Enter or quit) and stops cleanly."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    from lib.procs import VdevpeerMiddle
    m = VdevpeerMiddle(procs, [PortSpec(a), PortSpec(b)], stdin=stdin).start()
    Transfer(procs, m, a, b).check(fr.build(fr.SIZES_STD, 2))
    assert m.proc.alive()
    assert m.stop() == 0


# ------------------------------------------------------ the option table
# One table in the app (options.c) drives getopt, the config file's keys,
# --help and docs/app.md. These tests read the table through
# --dump-options and check each consumer against it.

APP_DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "app.md")
OPT_BEGIN, OPT_END = "<!-- BEGIN OPTIONS -->\n", "<!-- END OPTIONS -->"


def dump_options(app):
    return subprocess.run([app, "--", "--dump-options"], capture_output=True, text=True,
                          timeout=10, check=True).stdout


def numeric_options(app):
    """[(option, min, max, default, section, key)] of every integer option."""
    out = []
    for entry in dump_options(app).split("\n\n"):
        m = re.match(r"`--([a-z-]+) [A-Z]+`", entry)
        r = re.search(r"Range (\d+)\.\.(\d+)\. Default: ([^.]+)\.", entry)
        k = re.search(r"Config file: `\[(\w+)\] (\w+)`", entry)
        if m and r:
            out.append((m.group(1), int(r.group(1)), int(r.group(2)), r.group(3),
                        k.group(1) if k else None, k.group(2) if k else None))
    return out


def test_dump_options_matches_docs(app):
    """Regenerate docs/app.md with ci/gen-docs.sh when an option changes."""
    with open(APP_DOC) as f:
        doc = f.read()
    assert OPT_BEGIN in doc and OPT_END in doc, "docs/app.md lacks the generated block"
    block = doc[doc.index(OPT_BEGIN) + len(OPT_BEGIN):doc.index(OPT_END)]
    assert block.strip() == dump_options(app).strip(), "docs/app.md is stale: run ci/gen-docs.sh"


def test_help_lists_every_option(procs, app):
    """--help shows every option of the table, an integer option with its
    range and default."""
    rc, out = run_app(procs, app, [], ["--help"])
    assert rc == 0, out
    names = re.findall(r"^`(?:-\w`, `)?--([a-z-]+)", dump_options(app), re.M)
    assert len(names) > 15, names
    for name in names:
        assert re.search(r"^  (-\w, )?--%s\b" % name, out, re.M), "--help lacks --%s" % name
    for name, lo, hi, dflt, _s, _k in numeric_options(app):
        assert re.search(r"--%s [A-Z]+\s[^(]*\(%d\.\.%d, default %s\)" % (name, lo, hi, re.escape(dflt)),
                         out), "--help lacks the range/default of --%s" % name


def test_option_ranges_shared_by_command_line_and_config(procs, app):
    """An integer one past its maximum is refused with the same range on
    the command line and as its config file key."""
    opts = [o for o in numeric_options(app) if o[4] is not None]
    assert len(opts) >= 8, opts
    eal = ["--vdev", "net_null0", "--vdev", "net_null1"]
    for name, lo, hi, _d, section, key in opts:
        bad = str(hi + 1)
        why = r"bad value '%s': expected an integer in %d\.\.%d" % (bad, lo, hi)
        rc, out = run_app(procs, app, eal, ["--" + name, bad])
        assert rc == 2 and re.search(r"--%s: %s" % (name, why), out), (name, out[-1500:])
        cfg = procs.file("range-%s.ini" % key)
        with open(cfg, "w") as f:
            f.write("[%s]\n%s = %s\n" % (section, key, bad))
        rc, out = run_app(procs, app, eal, ["--config", cfg])
        assert rc == 2 and re.search(r"\[%s\] %s: %s" % (section, key, why), out), (key, out[-1500:])
