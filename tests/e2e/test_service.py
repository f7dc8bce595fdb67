# SPDX-License-Identifier: BSD-3-Clause
"""The service: the systemd unit dpdk-vdevpeer@.service (built from
config/systemd/dpdk-vdevpeer@.service.in) is what systemd checks it to be,
and its ExecStart line, run as systemd would run it (stdin /dev/null, the
instance's configuration file with an [eal] section, no EAL options on the
command line), forwards between two guests, stops cleanly with SIGTERM
(exit 0, final statistics), and exits with the status the unit does not
restart on for a bad configuration. [eal] hugepages makes the system have
that many 2 MB pages (raised, never lowered)."""

import os
import re
import shlex
import signal
import subprocess

import pytest

from lib import frames as fr
from lib import procs as P
from lib.huge import NR_HUGE

UNIT = os.path.join(P.BUILD, "dpdk-vdevpeer@.service")
EXAMPLE = os.path.join(P.REPO, "config", "service.ini")


def unit_directives():
    """[Section] -> {key: [values]} of the built unit."""
    out, sec = {}, None
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                sec = out.setdefault(line.strip("[]"), {})
                continue
            k, v = line.split("=", 1)
            sec.setdefault(k, []).append(v)
    return out


def exec_start(config):
    """The unit's ExecStart argv for an instance whose file is config,
    with the installed binary's path replaced by the build tree's."""
    (line,) = unit_directives()["Service"]["ExecStart"]
    argv = shlex.split(line)
    assert argv[0].endswith("/dpdk-vdevpeer"), argv
    i = argv.index("--config")
    assert argv[i + 1].endswith("/%i.ini"), argv
    return [P.APP] + argv[1:i + 1] + [config] + argv[i + 2:]


def hugepages_now():
    with open(NR_HUGE) as f:
        return int(f.read())


def service_config(procs, prefix, hugepages=None, extra=""):
    """config/service.ini with the test's sockets, EAL options and (when
    given) hugepages."""
    with open(EXAMPLE) as f:
        text = f.read().replace("/run/vdevpeer/", procs.sockdir + "/")
    eal = " ".join(P.EAL_COMMON + ["-m", "512", "--file-prefix", prefix] + P.MIDDLE_LCORES)
    text, n = re.subn(r"^args\s*=.*$", "args = " + eal, text, flags=re.M)
    assert n == 1
    hp = "" if hugepages is None else "hugepages = %d" % hugepages
    text, n = re.subn(r"^hugepages\s*=.*$", hp, text, flags=re.M)
    assert n == 1
    path = procs.file("%s.ini" % prefix)
    with open(path, "w") as f:
        f.write(text + extra)
    return path


class ServiceMiddle(P.VdevpeerMiddle):
    """dpdk-vdevpeer started by the unit's ExecStart line."""

    kind = "service"

    def __init__(self, group, ports, hugepages=None):
        super().__init__(group, ports)
        self.hugepages = hugepages

    def argv(self, prefix):
        return exec_start(service_config(self.group, prefix, self.hugepages))


def test_unit_verifies(procs):
    # systemd's own check, on the unit as built with the binary it names
    # replaced by one that exists here (the install test verifies the
    # installed unit as it is)
    text = open(UNIT).read()
    (line,) = unit_directives()["Service"]["ExecStart"]
    unit_dir = procs.file("units")
    os.makedirs(unit_dir)
    local = os.path.join(unit_dir, "dpdk-vdevpeer@.service")
    with open(local, "w") as f:
        f.write(text.replace(shlex.split(line)[0], P.APP))
    r = subprocess.run(["systemd-analyze", "verify", local], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout + r.stderr == "", r.stdout + r.stderr
    # a mistake in the unit is seen by the same check
    with open(local, "w") as f:
        f.write(text.replace(shlex.split(line)[0], "/nonexistent/dpdk-vdevpeer"))
    r = subprocess.run(["systemd-analyze", "verify", local], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0 or r.stderr, "systemd-analyze verify accepts anything"


def test_unit_service_behaviour():
    s = unit_directives()["Service"]
    assert s["StandardInput"] == ["null"]
    assert s["KillSignal"] == ["SIGTERM"]
    assert s["Restart"] == ["on-failure"]
    # what the app exits with for a bad configuration (test below)
    assert s["RestartPreventExitStatus"] == ["2"]
    assert unit_directives()["Install"]["WantedBy"] == ["multi-user.target"]


def test_exec_start_forwards_and_stops_on_sigterm(procs):
    a, b = procs.sock("vm1.sock"), procs.sock("vm2.sock")
    # the example's sockets are vm1/vm2 in its directory
    m = ServiceMiddle(procs, [P.PortSpec(a), P.PortSpec(b)]).start()
    assert "EAL options from " in m.proc.output()
    assert m.proc.argv[1] == "--", m.proc.argv  # no EAL option on the command line
    t = P.Transfer(procs, m, a, b)
    t.check(fr.build([60, 1514], 20))
    assert m.stop(signal.SIGTERM) == 0
    log = m.proc.log()
    assert "Final statistics" in log, log[-2000:]
    assert m.final_stats()[0]["rx"] >= 40, m.final_stats()


def test_exec_start_hugepages(procs):
    have = hugepages_now()
    a, b = procs.sock("vm1.sock"), procs.sock("vm2.sock")
    try:
        # two more than the system has: raised before EAL starts
        m = ServiceMiddle(procs, [P.PortSpec(a), P.PortSpec(b)], hugepages=have + 2).start()
        got = hugepages_now()
        if got < have + 2:
            pytest.skip("the kernel could not reserve 2 more hugepages")
        m.proc.wait_log(r"Hugepages: %d of 2 MiB reserved now \(\[eal\] hugepages = %d\)"
                        % (got, have + 2), 20, what="raised")
        assert m.stop(signal.SIGTERM) == 0
        # asking for fewer than the system has changes nothing
        m = ServiceMiddle(procs, [P.PortSpec(a), P.PortSpec(b)], hugepages=have + 1).start()
        m.proc.wait_log(r"Hugepages: %d of 2 MiB reserved \(\[eal\] hugepages = %d\)"
                        % (got, have + 1), 20, what="already there")
        assert hugepages_now() == got
        assert m.stop(signal.SIGTERM) == 0
    finally:
        with open(NR_HUGE, "w") as f:
            f.write(str(have))


@pytest.mark.parametrize("mistake", ["eal-twice", "bad-key", "bad-hugepages", "missing"])
def test_exec_start_bad_config_exits_2(procs, mistake):
    prefix = procs.new_prefix("bad")
    if mistake == "missing":
        path = procs.file("nonexistent.ini")
    else:
        path = service_config(procs, prefix)
        text = open(path).read()
        if mistake == "bad-key":
            text = text.replace("[eal]\n", "[eal]\ncores = 3\n")
        elif mistake == "bad-hugepages":
            text = text.replace("[eal]\n", "[eal]\nhugepages = lots\n")
        with open(path, "w") as f:
            f.write(text)
    argv = exec_start(path)
    if mistake == "eal-twice":
        argv = argv[:1] + ["--no-huge"] + argv[1:]
    p = procs.start("bad-" + mistake, argv, prefix=prefix)
    assert p.wait(30) == 2, p.output()
    out = p.output()
    want = {"eal-twice": "EAL options both on the command line and in [eal] args",
            "bad-key": "[eal] cores: unknown key (known: args hugepages)",
            "bad-hugepages": "[eal] hugepages: bad value 'lots': expected an integer",
            "missing": "nonexistent.ini: No such file"}[mistake]
    assert want in out, out
