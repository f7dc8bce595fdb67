# SPDX-License-Identifier: BSD-3-Clause
"""--config FILE: every example in config/ starts (and forwards between
real guests), progress is shown while waiting for the guests, and each
kind of mistake gets one line naming the file, line, section and key.
Packet capture: dpdk-dumpcap, a secondary process, captures from a running
dpdk-vdevpeer (on hugepages) into a pcapng that tshark reads."""

import glob
import os
import re
import signal
import subprocess

import pytest

from lib import procs as P
from lib.netns import Netns
from test_hugepages import hugedir  # noqa: F401  (fixture)

CONFIG_DIR = os.path.join(P.REPO, "config")
# the seed topologies; service.ini (EAL options in its [eal] section, no
# waiting for guests) is run by test_service.py as the unit runs it
EXAMPLES = sorted(p for p in glob.glob(os.path.join(CONFIG_DIR, "*.ini"))
                  if os.path.basename(p) != "service.ini")


def app_argv(procs, prefix, app_args, eal=()):
    return ([P.APP] + P.EAL_COMMON + ["-m", "256", "--file-prefix", prefix] + P.MIDDLE_LCORES
            + list(eal) + ["--"] + list(app_args))


def localise(procs, path):
    """The example with its socket paths moved into the test's socket dir
    and a NIC (a PCI address) replaced by a net_null port standing in for
    it."""
    with open(path) as f:
        text = f.read().replace("/run/vdevpeer/", procs.sockdir + "/")
    text = re.sub(r"^(devargs\s*=\s*)[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]\s*$",
                  r"\1net_null9", text, flags=re.M)
    out = procs.file(os.path.basename(path))
    with open(out, "w") as f:
        f.write(text)
    return out, re.findall(r"^devargs\s*=.*\bpeer=([^,\s]+)", text, re.M)


def test_examples_exist():
    names = [os.path.basename(p) for p in EXAMPLES]
    assert "guest-to-guest.ini" in names and "guest-to-host.ini" in names, names


@pytest.mark.parametrize("example", EXAMPLES, ids=os.path.basename)
def test_example_starts(procs, app, example):
    """The example's ports come up, the app waits for their guests showing
    progress, then forwards once they are there; frames reach the guests.
    The app runs in a network namespace of the test's own, so the host
    interfaces an example asks for never appear in the host's namespace."""
    cfg, socks = localise(procs, example)
    with open(cfg) as f:
        host_if = re.search(r"^host_if\s*=", f.read(), re.M) is not None
    with Netns("cfg") as ns:
        prefix = procs.new_prefix("cfg")
        p = procs.start("app", ns.prefix() + app_argv(procs, prefix, ["--config", cfg]),
                        prefix=prefix)
        # /proc/net/unix is per network namespace: ask the driver instead
        for s in socks:
            p.wait_log(r"\(%s\): listening" % re.escape(s), 30)
        p.wait_log(r"Waiting for links \(\d+/30 s\):.* waiting for a guest on", 30)
        guests = [P.Guest(procs, "g%d" % i, s, fwd="txonly" if i == 0 else "rxonly").start()
                  for i, s in enumerate(socks)]
        p.wait_log(r"All links up after \d+ s", 40)
        p.wait_log(r"Forwarding started", 10)
        if host_if:
            # the host's stack on vp0 speaks: ARP requests towards the guest
            ns.sh("ip addr add 192.168.77.1/24 dev vp0 && ip link set vp0 up")
            ns.sh("ping -c 2 -W 1 192.168.77.2", check=False)
        # the last guest receives what the first sends (or, with a host
        # interface, what the host's stack sends)
        P.wait_until(lambda: (P.telemetry(prefix, "/ethdev/stats,%d" % (len(socks) - 1)) or {})
                     .get("opackets", 0) > 0, 30, "frames forwarded to the guest")
        assert p.stop(signal.SIGTERM, 20) == 0
        for g in guests:
            g.stop()


def test_config_command_line_overrides(procs, app):
    cfg, socks = localise(procs, os.path.join(CONFIG_DIR, "guest-to-guest.ini"))
    prefix = procs.new_prefix("ovr")
    p = procs.start("app", app_argv(procs, prefix, ["--config", cfg, "--wait-links", "0",
                                                   "--fwd", "rxonly"]), prefix=prefix)
    p.wait_log(r"Forwarding started", 30)
    assert "Waiting for links" not in p.output()
    assert re.search(r"Forwarding mode rxonly", p.output())
    assert p.stop(signal.SIGTERM, 20) == 0


GOOD_PORT = "[port a]\ndevargs = net_null0\n"

MISTAKES = [
    # (file text, line, what the message must name)
    ("[forwarding]\nmode = warp\n", 2, r"\[forwarding\] mode: bad value 'warp': expected io"),
    ("[forwarding]\nburst = 0\n", 2, r"\[forwarding\] burst: bad value '0': expected an integer"),
    ("[forwarding]\nrxq = many\n", 2, r"\[forwarding\] rxq: bad value 'many'"),
    ("[forwarding]\ncolour = blue\n", 2, r"\[forwarding\] colour: unknown key"),
    ("[forwarding]\nlcores = 0\n", 2, r"\[forwarding\] lcores: bad value '0': not a worker lcore"),
    ("[forwarding]\nmode = io\nmode = io\n", 3, r"\[forwarding\] mode: already set at line 4"),
    ("[forwarding]\npairs = a:nosuch\n", 2, r"\[forwarding\] pairs: bad value 'a:nosuch': unknown port"),
    ("[forwarding]\npairs = a-b\n", 2, r"\[forwarding\] pairs: bad value 'a-b': expected A:B"),
    ("[stats]\nperiod = -1\n", 2, r"\[stats\] period: bad value '-1'"),
    ("[bogus]\nx = 1\n", 1, r"\[bogus\]: unknown section"),
    ("[port b]\nmtu = 1500\n", 1, r"\[port b\]: no devargs key"),
    ("[port b]\ndevargs = net_vdevpeer9,colour=blue\n", 2,
     r"\[port b\] devargs: bad value 'net_vdevpeer9,colour=blue': the device did not come up"),
    ("[port b]\ndevargs = net_null1\nmtu = 9\n", 3, r"\[port b\] mtu: bad value '9'"),
    ("[forwarding]\nmode io\n", 2, r"'mode io': expected key = value"),
    ("[forwarding\nmode = io\n", 1, r"a section is \[name\]"),
    ("[forwarding]\nmode =\n", 2, r"\[forwarding\] mode: empty value"),
    ("[port a]\n", 1, r"\[port a\]: section already given at line 1"),
    ("[port b]\ndevargs = net_null1\nhost_if = yes\n", 3,
     r"\[port b\] host_if: bad value 'yes': only a guest"),
    ("[port b]\ndevargs = net_null1\nrole = boss\n", 3,
     r"\[port b\] role: bad value 'boss': expected guest or uplink"),
    ("[bridge]\naging = soon\n", 2, r"\[bridge\] aging: bad value 'soon'"),
    ("[bridge]\nstatic = 01:00:5e:00:00:01@a\n", 2,
     r"\[bridge\] static: bad value '01:00:5e:00:00:01@a': expected a unicast MAC"),
    ("[bridge]\nstatic = 02:00:00:00:00:01@nosuch\n", 2, r"\[bridge\] static: .*unknown port"),
    ("[bridge]\ncolour = red\n", 2, r"\[bridge\] colour: unknown key"),
]


@pytest.mark.parametrize("text,line,msg", MISTAKES, ids=[m[2][:40] for m in MISTAKES])
def test_config_mistake(procs, app, text, line, msg):
    # the good port first: a mistake later in the file still names its line
    cfg = procs.file("bad.ini")
    with open(cfg, "w") as f:
        f.write(GOOD_PORT + text)
    line += GOOD_PORT.count("\n")
    prefix = procs.new_prefix("bad")
    p = procs.start("app", app_argv(procs, prefix, ["--config", cfg]), prefix=prefix)
    assert p.wait(30) == 2, p.tail()
    want = r"%s:%d: .*%s" % (re.escape(cfg), line, msg)
    assert re.search(want, p.output()), "no %r in:\n%s" % (want, p.output()[-1500:])
    assert "Forwarding started" not in p.output()


def test_config_missing_file(procs, app):
    prefix = procs.new_prefix("nocfg")
    p = procs.start("app", app_argv(procs, prefix, ["--config", "/nonexistent.ini"],
                                    ["--vdev", "net_null0"]), prefix=prefix)
    assert p.wait(30) == 2
    assert "--config /nonexistent.ini: No such file" in p.output()


def test_dumpcap(procs, hugedir):  # noqa: F811
    # dpdk-dumpcap is a secondary process: the app must be on hugepages
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = P.HugeMiddle(procs, [P.PortSpec(a, devargs={"bind": "vp0"}),
                           P.PortSpec(b, devargs={"bind": "vp1"})], hugedir).start()
    P.Guest(procs, "rx", b, fwd="rxonly").start()
    P.Guest(procs, "tx", a, fwd="txonly", mac="02:00:00:00:cc:01").start()
    m.wait_ready(a)
    P.wait_until(lambda: (P.telemetry(m.proc.prefix, "/ethdev/stats,0") or {}).get("ipackets", 0) > 0,
                 30, "traffic into vp0")
    out = procs.file("vp0.pcapng")
    env = dict(os.environ, LD_PRELOAD=P.PMD_SO)
    r = subprocess.run(["dpdk-dumpcap", "--file-prefix=" + m.proc.prefix, "-i", "net_vdevpeer0",
                        "-c", "50", "-w", out], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    t = subprocess.run(["tshark", "-r", out, "-T", "fields", "-e", "eth.src", "-e", "ip.proto",
                        "-e", "frame.len"], capture_output=True, text=True, timeout=60)
    assert t.returncode == 0, t.stderr
    rows = [l.split("\t") for l in t.stdout.splitlines() if l.strip()]
    assert len(rows) >= 50, t.stdout
    # what the guest sent: testpmd txonly's UDP frames from its MAC
    assert all(r[0] == "02:00:00:00:cc:01" and r[1] == "17" for r in rows), rows[:5]
    assert m.proc.alive()
    assert m.stop() == 0
