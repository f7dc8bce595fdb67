# SPDX-License-Identifier: BSD-3-Clause
"""meson install, as an operator runs it.

- Staged (DESTDIR): every file lands where it should, the driver's link
  sits in the installed EAL's own driver directory (RTE_EAL_PMD_PATH)
  pointing at the library in libdir, the app finds the library through
  its RUNPATH, pkg-config describes the library, and a program of the
  operator's own builds against the header (C and C++; the API is
  experimental: refused without ALLOW_EXPERIMENTAL_API) and works with
  structs of an older and a newer header.
- Into the system: stock dpdk-testpmd forwards between two guests on
  net_vdevpeer ports with no -d, stock dpdk-dumpcap captures from the
  installed dpdk-vdevpeer with no preload, systemd-analyze verifies the
  installed unit; the build tree's app and a -d of the build tree's driver
  keep working beside the installed copy (the second copy in a process
  registers nothing). Everything installed is removed afterwards, also
  when the test fails, and directories the install created go too.
"""

import json
import os
import shutil
import subprocess

import pytest

from lib import frames as fr
from lib import procs as P
from lib.huge import hugetlbfs

DATA = os.path.join(os.path.dirname(__file__), "data")
LIB = "librte_net_vdevpeer.so"


def run(argv, **kw):
    kw.setdefault("timeout", 300)
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    assert r.returncode == 0, "%s: %s%s" % (" ".join(argv), r.stdout, r.stderr)
    return r.stdout


def build_option(name):
    opts = json.loads(run(["meson", "introspect", "--buildoptions", P.BUILD]))
    return next(o["value"] for o in opts if o["name"] == name)


def eal_pmd_path():
    """RTE_EAL_PMD_PATH of the installed EAL, read here independently of
    the build's own lookup."""
    cflags = run(["pkg-config", "--cflags", "libdpdk"]).split()
    out = run(["cc", "-E", "-dM", "-include", "rte_build_config.h", "-x", "c", "/dev/null"]
              + cflags)
    for line in out.splitlines():
        if line.startswith("#define RTE_EAL_PMD_PATH "):
            return line.split(None, 2)[2].strip('"')
    raise AssertionError("RTE_EAL_PMD_PATH not in rte_build_config.h")


def paths():
    prefix = build_option("prefix")
    libdir = os.path.join(prefix, build_option("libdir"))
    return {
        "lib": os.path.join(libdir, LIB + ".0.1.0"),
        "soname": os.path.join(libdir, LIB + ".0"),
        "plugin": os.path.join(eal_pmd_path(), LIB),
        "app": os.path.join(prefix, build_option("bindir"), "dpdk-vdevpeer"),
        "exporter": os.path.join(prefix, build_option("bindir"), "dpdk-vdevpeer-exporter"),
        "header": os.path.join(prefix, build_option("includedir"), "rte_pmd_vdevpeer.h"),
        "pc": os.path.join(libdir, "pkgconfig", "libdpdk-vdevpeer.pc"),
        "unit": os.path.join(prefix, "lib", "systemd", "system", "dpdk-vdevpeer@.service"),
        "example": os.path.join(prefix, build_option("datadir"), "dpdk-vdevpeer", "examples",
                                "service.ini"),
        "libdir": libdir,
    }


def staged(stage, path):
    return stage + path


def build_client(procs, cflags, libs, cxx=False):
    out = procs.file("api_client" + ("_cxx" if cxx else ""))
    src = os.path.join(DATA, "api_client.c")
    cc = ["g++", "-x", "c++"] if cxx else ["cc", "-std=c11"]
    return subprocess.run(cc + ["-Wall", "-Werror", "-o", out, src] + cflags + libs,
                          capture_output=True, text=True, timeout=120), out


def test_staged_install(procs, tmp_path):
    stage = str(tmp_path / "stage")
    run(["meson", "install", "-C", P.BUILD, "--no-rebuild", "--quiet", "--destdir", stage])
    p = paths()
    assert os.path.isdir(staged(stage, build_option("config_dir")))
    for key in ("lib", "app", "exporter", "header", "pc", "unit", "example"):
        f = staged(stage, p[key])
        assert os.path.isfile(f) and not os.path.islink(f), (key, f)
    # the installed exporter runs, and its HELP source (xstats.md) is there
    assert "dpdk_vdevpeer_up" in run([staged(stage, p["exporter"]), "--dump-metrics"])
    assert os.path.isfile(os.path.join(os.path.dirname(staged(stage, p["header"])), "..", "share",
                                       "doc", "dpdk-vdevpeer", "xstats.md"))
    # the driver directory EAL loads: a link to the library in libdir
    plugin = staged(stage, p["plugin"])
    assert os.path.islink(plugin), plugin
    assert os.readlink(plugin) == p["soname"]
    assert os.path.realpath(staged(stage, p["soname"])) == staged(stage, p["lib"])
    # the installed app finds the library where ld.so.cache may not yet
    dyn = run(["readelf", "-d", staged(stage, p["app"])])
    assert "[%s]" % p["libdir"] in dyn and "librte_net_vdevpeer.so.0" in dyn, dyn

    # pkg-config, against the staged tree
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(staged(stage, p["pc"])))
    flags = run(["pkg-config", "--cflags", "--libs", "libdpdk-vdevpeer"], env=env).split()
    assert "-lrte_net_vdevpeer" in flags and "-lrte_ethdev" in flags, flags
    assert "-I" + os.path.dirname(p["header"]) in flags and "-L" + p["libdir"] in flags, flags
    # our directories, looked up in the staged tree (libdpdk's stay)
    ours = ("-I" + os.path.dirname(p["header"]), "-L" + p["libdir"])
    flags = [f[:2] + stage + f[2:] if f in ours else f for f in flags]
    libs = [f for f in flags if f.startswith(("-L", "-l"))]
    cflags = [f for f in flags if f not in libs]
    # experimental API: refused unless the application opts in, as DPDK's
    r, _ = build_client(procs, cflags, libs)
    assert r.returncode != 0 and "not yet part of stable ABI" in r.stderr, r.stderr[-2000:]
    cflags.append("-DALLOW_EXPERIMENTAL_API")
    r, _ = build_client(procs, cflags, libs, cxx=True)
    assert r.returncode == 0, r.stderr[-2000:]
    r, client = build_client(procs, cflags, libs)
    assert r.returncode == 0, r.stderr[-2000:]

    # the program works with the staged library, structs of every age
    prefix = procs.new_prefix("client")
    sock = procs.sock("client.sock")
    c = procs.start("api-client", [client] + P.EAL_COMMON + ["-m", "256", "-l", "0",
                    "--file-prefix", prefix,
                    "--vdev", "net_vdevpeer0,peer=%s,server=1,bind=vp0" % sock],
                    prefix=prefix, env=dict(os.environ, LD_LIBRARY_PATH=staged(stage, p["libdir"])))
    assert c.wait(60) == 0, c.output()
    assert "api-client: ok" in c.output(), c.output()


class InstalledMiddle(P.HugeMiddle):
    """The installed dpdk-vdevpeer (on hugepages: dumpcap needs that)."""

    kind = "installed"

    def __init__(self, group, ports, huge_dir, app):
        super().__init__(group, ports, huge_dir)
        self.app = app

    def argv(self, prefix):
        argv = super().argv(prefix)
        assert argv[0] == P.APP
        return [self.app] + argv[1:]


class StockTestpmdMiddle(P.PluginMiddle):
    """Debian's dpdk-testpmd with no -d: EAL finds the driver itself."""

    kind = "stock-testpmd"

    def argv(self, prefix):
        argv = super().argv(prefix)
        i = argv.index("-d")
        return argv[:i] + argv[i + 2:]


COPY_LINE = "is loaded already: this copy"


@pytest.fixture
def system_install():
    """meson install into the system; afterwards (also on failure) every
    file it installed is removed, and the directories it created."""
    if os.geteuid() != 0:
        pytest.skip("installing into the system needs root")
    p = paths()
    if os.path.lexists(p["plugin"]) or os.path.exists(p["lib"]):
        pytest.skip("net_vdevpeer is installed on this machine already: not touching it")
    log = os.path.join(P.BUILD, "meson-logs", "install-log.txt")
    planned = json.loads(run(["meson", "introspect", "--installed", P.BUILD])).values()
    existed = set()
    for f in list(planned) + [p["plugin"]]:
        d = os.path.dirname(f)
        while d not in ("/", ""):
            if os.path.isdir(d):
                existed.add(d)
            d = os.path.dirname(d)
    try:
        run(["meson", "install", "-C", P.BUILD, "--no-rebuild", "--quiet"])
        yield p
    finally:
        installed = []
        if os.path.exists(log):
            with open(log) as f:
                installed = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        for f in installed:
            if os.path.islink(f) or os.path.isfile(f):
                os.unlink(f)
        # created directories, deepest first; only if empty
        dirs = set()
        for f in installed:
            d = f if os.path.isdir(f) and not os.path.islink(f) else os.path.dirname(f)
            while d not in ("/", "") and d not in existed:
                dirs.add(d)
                d = os.path.dirname(d)
        for d in sorted(dirs, key=len, reverse=True):
            if os.path.isdir(d) and not os.listdir(d):
                os.rmdir(d)
        assert not os.path.lexists(p["plugin"]) and not os.path.exists(p["lib"])


def test_system_install(procs, system_install):
    p = system_install
    assert os.path.realpath(p["plugin"]) == p["lib"]

    # systemd's check of the unit as installed
    r = subprocess.run(["systemd-analyze", "verify", p["unit"]], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout + r.stderr == "", r.stdout + r.stderr

    # stock testpmd, no -d: two guests talk through two net_vdevpeer ports
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = StockTestpmdMiddle(procs, [P.PortSpec(a), P.PortSpec(b)]).start()
    assert "-d" not in m.proc.argv
    P.Transfer(procs, m, a, b).check(fr.build([60, 1514], 10))
    assert COPY_LINE not in m.proc.output()
    m.stop()

    # a -d of the build tree's driver beside the installed one: the -d
    # copy (loaded first) drives the ports, the other stays out
    m = P.PluginMiddle(procs, [P.PortSpec(a), P.PortSpec(b)]).start()
    P.Transfer(procs, m, a, b).check(fr.build([60, 1514], 10))
    assert "%s (%s) stays unregistered" % (COPY_LINE, p["lib"]) in m.proc.output(), \
        m.proc.output()[-3000:]
    m.stop()

    # the build tree's app: its own copy, the installed one stays out;
    # its telemetry (the registered copy's) knows the ports
    m = P.VdevpeerMiddle(procs, [P.PortSpec(a, devargs={"bind": "vp0"}),
                                 P.PortSpec(b, devargs={"bind": "vp1"})]).start()
    P.Transfer(procs, m, a, b).check(fr.build([60, 1514], 10))
    assert "%s (%s) stays unregistered" % (COPY_LINE, p["lib"]) in m.proc.output()
    assert P.telemetry(m.proc.prefix, "/vdevpeer/ports") == {"vp0": 0, "vp1": 1}
    assert m.stop() == 0

    # the installed app, and stock dumpcap with no preload
    with hugetlbfs(300) as huge:
        m = InstalledMiddle(procs, [P.PortSpec(a, devargs={"bind": "vp0"}),
                                    P.PortSpec(b, devargs={"bind": "vp1"})], huge, p["app"]).start()
        assert COPY_LINE not in m.proc.output()
        P.Guest(procs, "rx", b, fwd="rxonly").start()
        P.Guest(procs, "tx", a, fwd="txonly", mac="02:00:00:00:cc:02").start()
        m.wait_ready(a)
        P.wait_until(lambda: (P.telemetry(m.proc.prefix, "/ethdev/stats,0") or {})
                     .get("ipackets", 0) > 0, 30, "traffic into vp0")
        out = procs.file("vp0.pcapng")
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        r = subprocess.run([shutil.which("dpdk-dumpcap") or "/usr/bin/dpdk-dumpcap",
                            "--file-prefix=" + m.proc.prefix, "-i", "net_vdevpeer0", "-c", "20",
                            "-w", out], capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        t = run(["tshark", "-r", out, "-T", "fields", "-e", "eth.src"], timeout=60)
        rows = [l for l in t.splitlines() if l.strip()]
        assert len(rows) >= 20 and set(rows) == {"02:00:00:00:cc:02"}, rows[:5]
        assert m.stop() == 0
