# SPDX-License-Identifier: BSD-3-Clause
"""dpdk-vdevpeer's console (-i, on a pseudo-terminal with real keystrokes,
TAB included), the same commands from --cmdline-file, port attach/detach
while the other ports carry traffic, dpdk-telemetry.py against a running
app, and the generated console reference in docs/console.md."""

import json
import os
import re
import signal
import subprocess
import threading
import time

import pexpect
import pytest

from lib import procs as P

PROMPT = "vdevpeer> "
DOC = os.path.join(P.REPO, "docs", "console.md")


def vdev(i, sock, bind, queues=1):
    return "net_vdevpeer%d,peer=%s,server=1,bind=%s,queues=%d" % (i, sock, bind, queues)


class Console:
    """The app with -i on a pty, driven by pexpect; stopped by PID at
    cleanup (the ProcGroup removes its runtime dir). Between commands a
    thread reads what the app prints (into the log): a pty nobody reads
    fills up, and an app thread logging into it then blocks (librte_vhost's
    thread, holding a port's lock: the control plane stops)."""

    def __init__(self, procs, request, vdevs, app_args=(), lcores=None, drain=True,
                 in_shell=False):
        self.prefix = procs.new_prefix("con")
        argv = ([P.APP] + P.EAL_COMMON + ["-m", "512", "--file-prefix", self.prefix]
                + (lcores or P.MIDDLE_LCORES))
        for d in vdevs:
            argv += ["--vdev", d]
        argv += ["--", "-i"] + list(app_args)
        # in_shell: the app runs under sh on the same terminal, which
        # prints the terminal's settings (stty -g) before and after it and
        # its exit status: what a user's shell finds when the app is gone
        self.app_pid = None
        if in_shell:
            argv = ["/bin/sh", "-c", 'echo "STTY-BEFORE $(stty -g)"; "$@"; rc=$?; '
                    'echo "STTY-AFTER $(stty -g)"; echo "APP-EXIT $rc"', "sh"] + argv
        self.log = open(procs.file("console-%s.log" % self.prefix[-6:]), "w")
        self.c = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", timeout=30,
                               dimensions=(50, 250))
        self.c.logfile_read = self.log
        self._lock = threading.Lock()
        self._stop = threading.Event()
        request.addfinalizer(self.kill)
        if in_shell:
            self.app_pid = P.wait_until(lambda: _app_under(self.c.pid), 30, "the app under sh")
        self.c.expect_exact(PROMPT, timeout=60)
        self._drain = threading.Thread(target=self._drain_loop, daemon=True)
        if drain:   # off: the test reads con.c itself (keystrokes)
            self._drain.start()

    def _drain_loop(self):
        while not self._stop.is_set():
            with self._lock:
                try:
                    self.c.read_nonblocking(65536, timeout=0.05)
                except pexpect.TIMEOUT:
                    pass
                except (pexpect.EOF, OSError, ValueError):
                    return
            time.sleep(0.01)

    def kill(self):
        self._stop.set()
        if getattr(self, "_drain", None) is not None and self._drain.is_alive():
            self._drain.join(5)
        if self.app_pid is not None and _app_under(self.c.pid) == self.app_pid:
            try:
                os.kill(self.app_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.c.isalive():
            try:
                os.kill(self.c.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.c.wait()
        self.log.close()

    def quiet(self):
        """Stop the reading thread: the test reads the rest itself (the
        app's last words, its EOF)."""
        self._stop.set()
        if self._drain.is_alive():
            self._drain.join(5)

    def cmd(self, line, expect=None, timeout=30):
        """Type a line, wait for the next prompt; return the output between."""
        with self._lock:
            self.c.send(line + "\r")
            self.c.expect_exact(PROMPT, timeout=timeout)
            out = _clean(self.c.before)
        if expect is not None:
            assert re.search(expect, out), "%r: no %r in:\n%s" % (line, expect, out)
        return out


def _app_under(pid):
    """The pid of the dpdk-vdevpeer that is a child of process pid, or None."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        return None
    for k in kids:
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                if f.read().split(b"\0")[0] == P.APP.encode():
                    return k
        except OSError:
            pass
    return None


_ESC = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\x1b[78]|\r")


def _clean(s):
    return _ESC.sub("", s)


def stats(prefix, port):
    return P.telemetry(prefix, "/ethdev/stats,%d" % port) or {}


def rising(prefix, port, key, timeout=30):
    """Wait until port's counter key grows past its current value."""
    base = stats(prefix, port).get(key, 0)
    P.wait_until(lambda: stats(prefix, port).get(key, 0) > base, timeout,
                 "port %d %s rising above %d" % (port, key, base))


def test_console_commands(procs, request, app):
    """Completion, every command, bad commands; the console survives all."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    con = Console(procs, request, [vdev(0, a, "vp0"), vdev(1, b, "vp1")], drain=False)
    c = con.c

    # TAB completes a word, then lists the choices (ports by id and name)
    c.send("show po\t")
    c.expect_exact("show port ")
    c.send("inf\t")
    c.expect_exact("info ")
    c.send("\t\t")
    c.expect(r"\n all \[.*\n 0 \[.*\n vp0 \[.*\n 1 \[.*\n vp1 \[")
    c.expect_exact(PROMPT + "show port info ")   # the line is redrawn
    c.send("vp0\r")
    c.expect_exact("Port 0 (vp0)")
    c.expect_exact(PROMPT)
    assert "driver net_vdevpeer" in c.before, c.before
    c.send("he\t")
    c.expect_exact("help")
    out = con.cmd("")
    for syntax in ("show peer <port>", "port attach <devargs...>", "quit"):
        assert syntax in out, out

    con.cmd("show config fwd", r"mode io.*stopped[\s\S]*pairs: vp0:vp1")
    con.cmd("start", r"Forwarding started: mode io, 2 stream")
    con.cmd("start", r"Error: forwarding is already started")
    con.cmd("show config fwd",
            r"lcore 1: rx port 0 \(vp0\) queue 0 -> tx port 1 \(vp1\) queue 0, direct path")

    # a guest comes: show peer tells its state, features and MAC
    g = P.Guest(procs, "g0", a, fwd="txonly", mac="02:00:00:00:aa:01").start()
    P.wait_until(lambda: "running" in con.cmd("show peer vp0"), 30, "vp0 running")
    P.wait_until(lambda: "02:00:00:00:AA:01" in con.cmd("show peer 0").upper(), 30,
                 "guest MAC learned")
    out = con.cmd("show peer vp0")
    for want in (a, "server", r"negotiated\s+0x\S+ .*VERSION_1", r"offered\s+0x\S+ .*MRG_RXBUF",
                 r"peerfeats", r"rings\s+split", r"vring 1 .*guest tx 0: size \d+, enabled"):
        assert re.search(want, out), "show peer: no %r in\n%s" % (want, out)
    con.cmd("show peer vp1", r"waiting \(no VMM")

    con.cmd("show port stats vp0", r"rx: packets \d+")
    con.cmd("show port stats all", r"Port 1 \(vp1\)[\s\S]*tx: packets")
    con.cmd("show port xstats 0", r"rx_size_64_packets")
    con.cmd("show fwd stats", r"vp0/0 -> vp1/0: rx \d+")
    con.cmd("clear port stats all", r"Port 0 \(vp0\): statistics cleared")
    con.cmd("port config vp0 mtu 9000", r"Port 0 \(vp0\): mtu 9000")
    con.cmd("show port info 0", r"mtu 9000")
    con.cmd("port config vp0 mtu 10", r"Error: mtu: bad value '10'")
    con.cmd("port config vp0 csum off", r"Port 0 \(vp0\): checksum offload off")
    con.cmd("port config vp0 csum on", r"Port 0 \(vp0\): checksum offload on")
    con.cmd("set log level pmd.net.vdevpeer.* debug", r"Log level of pmd.net.vdevpeer.\*: debug")
    con.cmd("set log level pmd.net.vdevpeer.* loud", r"Command not found|Bad arguments")
    con.cmd("port stop vp1", r"Port 1 \(vp1\): stopped[\s\S]*restarted: mode io, 0 stream")
    con.cmd("port start vp1", r"Port 1 \(vp1\): started[\s\S]*restarted: mode io, 2 stream")
    con.cmd("set fwd macswap", r"Forwarding mode: macswap")
    con.cmd("set fwd rxonly", r"mode rxonly, 2 stream")
    con.cmd("set fwd txonly", r"\(generate\) -> tx port 1")
    con.cmd("set fwd io", r"Forwarding mode: io")
    con.cmd("stop", r"Forwarding stopped[\s\S]*total: rx \d+")
    con.cmd("stop", r"Error: forwarding is not started")

    # bad commands: one line each, the console keeps going
    for bad, msg in (("frobnicate", r"Command not found"),
                     ("show port info 42", r"Error: '42': no such port"),
                     ("show peer nosuch", r"Error: 'nosuch': no such port"),
                     ("set fwd warp", r"Command not found|Bad arguments"),
                     ("port config vp0 mtu x", r"Error: mtu: bad value 'x'"),
                     ("help nosuch", r"Error: help nosuch")):
        out = con.cmd(bad, msg).strip().splitlines()
        assert len(out) == 2, "%r: more than one line:\n%s" % (bad, "\n".join(out))
    con.cmd("show port info all", r"Port 1 \(vp1\)")

    c.send("quit\r")
    c.expect(r"Final statistics")
    c.expect(pexpect.EOF, timeout=30)
    c.wait()
    assert c.exitstatus == 0, c.before
    g.stop()


def test_console_sigterm_and_eof(procs, request, app):
    """SIGTERM stops the console like quit; so does closing its input."""
    con = Console(procs, request, [vdev(0, procs.sock("a.sock"), "vp0")],
                  ["--fwd", "rxonly", "--auto-start"])
    con.cmd("show fwd stats", r"Forwarding running")
    con.quiet()
    os.kill(con.c.pid, signal.SIGTERM)
    con.c.expect(r"Signal 15 received")
    con.c.expect(r"Bye")
    con.c.expect(pexpect.EOF)
    con.c.wait()
    assert con.c.exitstatus == 0


@pytest.mark.parametrize("typed", ["", "show port in"], ids=["empty-line", "half-typed"])
def test_console_ctrl_c(procs, request, app, typed):
    """Ctrl-C in the console stops the app as SIGINT does: forwarding
    stopped, final statistics, exit status 0, the process gone, and the
    terminal given back as it was (cmdline makes it raw: the key arrives as
    the byte 0x03, not as a signal). A half-typed line is dropped, not run."""
    con = Console(procs, request, [vdev(0, procs.sock("a.sock"), "vp0")],
                  ["--fwd", "rxonly", "--auto-start"], drain=False, in_shell=True)
    c = con.c
    before = re.search(r"STTY-BEFORE (\S+)", _clean(c.before)).group(1)
    con.cmd("show fwd stats", r"Forwarding running")
    if typed:
        c.send(typed)
        c.expect_exact(typed)           # echoed: the console has the keys
    c.sendcontrol("c")
    c.expect(r"STTY-AFTER (\S+)", timeout=60)
    shutdown = _clean(c.before)
    after = c.match.group(1)
    c.expect(r"APP-EXIT (\d+)")
    rc = int(c.match.group(1))
    c.expect(pexpect.EOF)
    c.wait()
    assert rc == 0, shutdown
    for want in (r"\^C\nCtrl-C: stopping", r"Final statistics", r"Streams:[\s\S]*total: rx \d+",
                 r"Port 0 \(vp0\): closed", r"Bye"):
        assert re.search(want, shutdown), "no %r in the shutdown output:\n%s" % (want, shutdown)
    # the typed words never ran as a command
    for bad in ("Bad arguments", "Command not found", "Error:"):
        assert bad not in shutdown, shutdown
    assert after == before, "terminal settings not restored:\n before %s\n after  %s" % (
        before, after)
    assert not os.path.exists("/proc/%d" % con.app_pid), \
        "the app (pid %d) is still there" % con.app_pid


@pytest.mark.parametrize("nq,lcores", [(1, None), (4, ["--lcores", "0@0,1@1,2@1"])],
                         ids=["1q-1worker", "4q-2workers"])
def test_attach_detach_under_traffic(procs, request, app, nq, lcores):
    """Ports added and removed at run time; the other pair keeps forwarding
    all along (its counters keep rising after each change). Also with
    4-queue ports and guests on two worker lcores."""
    a, b, c_, d = (procs.sock(n) for n in ("a.sock", "b.sock", "c.sock", "d.sock"))
    qargs = ["--rxq", str(nq), "--txq", str(nq)]
    con = Console(procs, request, [vdev(0, a, "vp0", nq), vdev(1, b, "vp1", nq)],
                  ["--auto-start"] + qargs, lcores=lcores)

    def guest(name, sock, fwd):
        """A guest on sock, started once the one before is fully up: every
        vring of its nq pairs ready in the middle (on two CPUs shared by
        four polling guests and two workers, a guest's set-up messages can
        take seconds each; traffic waits for them, nothing else)."""
        g = P.Guest(procs, name, sock, fwd=fwd, queues=nq,
                    extra_args=["--rxq=%d" % nq, "--txq=%d" % nq]).start()
        port = {a: 0, b: 1, c_: 2, d: 3}[sock]

        def ready():
            info = P.telemetry(con.prefix, "/vdevpeer/peer,%d" % port) or {}
            return all((info.get("vring%d_guest_%s%d" % (v, "tx" if v & 1 else "rx", v // 2))
                        or [0, 0])[1] == 1 for v in range(2 * nq))
        P.wait_until(ready, 90, "%s: %d queue pairs ready" % (name, nq), fail_if=g.proc.died_msg)
        return g
    guest("rx1", b, "rxonly")
    guest("tx0", a, "txonly")
    rising(con.prefix, 1, "opackets")

    con.cmd("port attach " + vdev(2, c_, "vp2", nq), r"Port 2 \(vp2\): attached")
    con.cmd("port attach " + vdev(3, d, "vp3", nq),
            r"Ports 2 \(vp2\) and 3 \(vp3\) paired[\s\S]*restarted: mode io, %d stream"
            % (4 * nq))
    rising(con.prefix, 1, "opackets")
    assert P.unix_listening(c_) and P.unix_listening(d)
    guest("rx3", d, "rxonly")
    guest("tx2", c_, "txonly")
    rising(con.prefix, 3, "opackets")
    rising(con.prefix, 1, "opackets")
    out = con.cmd("show config fwd")
    assert "vp2:vp3" in out and "rx port 2 (vp2) queue 0 -> tx port 3 (vp3)" in out, out
    if nq > 1:
        # every queue of the new pair polled by exactly one of the two workers
        where = re.findall(r"lcore (\d+): rx port 2 \(vp2\) queue (\d+)", out)
        assert sorted(q for _, q in where) == [str(q) for q in range(nq)], out
        assert set(re.findall(r"lcore (\d+): rx port", out)) == {"1", "2"}, out
        P.wait_until(lambda: all(n > 0 for n in stats(con.prefix, 3).get("q_opackets", [])[:nq]),
                     30, "vp3's %d tx queues all carrying frames" % nq)

    con.cmd("port detach vp2", r"Port 2: device net_vdevpeer2 detached")
    P.wait_until(lambda: not os.path.exists(c_), 10, "vp2's socket removed")
    rising(con.prefix, 1, "opackets")
    con.cmd("port close vp3", r"Port 3 \(vp3\): closed")
    con.cmd("port detach 3", r"Port 3: device net_vdevpeer3 detached")
    P.wait_until(lambda: not P.unix_listening(d), 10, "vp3 no longer listening")
    rising(con.prefix, 1, "opackets")
    # the same name and socket can come back
    con.cmd("port attach " + vdev(2, c_, "vp2", nq), r"Port 2 \(vp2\): attached")
    con.cmd("port attach net_vdevpeer2,peer=%s,bind=dup" % c_, r"Error: port attach")
    rising(con.prefix, 1, "opackets")
    con.cmd("show port info vp2", r"started")
    con.quiet()
    con.c.send("quit\r")
    con.c.expect(pexpect.EOF, timeout=30)
    con.c.wait()
    assert con.c.exitstatus == 0


def test_cmdline_file(procs, app):
    """--cmdline-file without -i: the commands run at start, a bad one gets
    one line naming the file and line, the service keeps running without
    reading stdin, SIGTERM stops it."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    cmds = procs.file("cmds.txt")
    with open(cmds, "w") as f:
        f.write("# comment lines and blank lines are skipped\n\n"
                "show config fwd\n"
                "frobnicate now\n"
                "set fwd macswap\n"
                "show peer vp1\n"
                "port config vp0 mtu 2000\n")
    prefix = procs.new_prefix("file")
    argv = ([app] + P.EAL_COMMON + ["-m", "256", "--file-prefix", prefix] + P.MIDDLE_LCORES
            + ["--vdev", vdev(0, a, "vp0"), "--vdev", vdev(1, b, "vp1"),
               "--", "--cmdline-file", cmds])
    p = procs.start("app", argv, prefix=prefix, stdin="closed")
    p.wait_log(r"Port 0 \(vp0\): mtu 2000", 30)
    p.wait_log(r"Forwarding started \(SIGINT or SIGTERM stops\)", 10)
    out = p.output()
    assert re.search(r"Error: %s:4: unknown command: frobnicate now" % re.escape(cmds), out), out
    # only the bad line is an error: the good ones ran without one
    assert out.count("Error: ") == 1, out
    assert re.search(r"Forwarding mode: macswap", out)
    assert re.search(r"Peer of port 1 \(vp1\)[\s\S]*socket\s+%s" % re.escape(b), out)
    assert p.alive()
    assert p.stop(signal.SIGTERM, 20) == 0
    assert "Final statistics" in p.output()

    # a file with quit stops the app at once, cleanly
    with open(cmds, "w") as f:
        f.write("show fwd stats\nquit\nshow fwd stats\n")
    prefix = procs.new_prefix("file2")
    argv[argv.index("--file-prefix") + 1] = prefix
    p2 = procs.start("app-quit", argv, prefix=prefix)
    assert p2.wait(30) == 0, p2.tail()
    assert p2.output().count("Forwarding running") == 1


def test_cmdline_file_missing(procs, app):
    prefix = procs.new_prefix("nofile")
    argv = ([app] + P.EAL_COMMON + ["-m", "256", "--file-prefix", prefix] + P.MIDDLE_LCORES
            + ["--vdev", "net_null0", "--", "--fwd", "rxonly", "--cmdline-file", "/nonexistent/x"])
    p = procs.start("app", argv, prefix=prefix)
    assert p.wait(30) == 2
    assert "--cmdline-file /nonexistent/x" in p.output()


def telemetry_py(prefix, cmds):
    """Debian's dpdk-telemetry.py, commands on its stdin; the JSON replies."""
    r = subprocess.run(["dpdk-telemetry.py", "-f", prefix], input="\n".join(cmds) + "\n",
                       capture_output=True, text=True, timeout=30)
    replies = []
    for line in r.stdout.splitlines():
        line = line.strip().lstrip("-> ").strip()
        if line.startswith("{"):
            replies.append(json.loads(line))
    # the first reply is the connection banner
    return [x for x in replies if "version" not in x or len(x) > 3]


def test_telemetry(procs, middle, app):
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = middle([P.PortSpec(a, devargs={"bind": "vp0"}), P.PortSpec(b, devargs={"bind": "vp1"})],
               kind="vdevpeer").start()
    g = P.Guest(procs, "g0", a, fwd="txonly", mac="02:00:00:00:bb:01").start()
    m.wait_ready(a)

    def peer():
        return telemetry_py(m.proc.prefix, ["/vdevpeer/peer,0"])[0]["/vdevpeer/peer"]
    P.wait_until(lambda: peer()["guest_mac"].upper() == "02:00:00:00:BB:01", 30, "guest MAC learned")
    replies = telemetry_py(m.proc.prefix, ["/ethdev/list", "/vdevpeer/ports", "/vdevpeer/peer,0",
                                           "/vdevpeer/peer,vp1", "/ethdev/stats,0", "/ethdev/info,1",
                                           "/vdevpeer/peer,9"])
    got = {}
    for r in replies:
        got.update(r)
    assert got["/ethdev/list"] == [0, 1], got
    assert got["/vdevpeer/ports"] == {"vp0": 0, "vp1": 1}, got
    p0 = replies[2]["/vdevpeer/peer"]
    assert p0["socket"] == a and p0["role"] == "server" and p0["state"] == "running", p0
    assert "VERSION_1" in p0["negotiated_names"] and "MRG_RXBUF" in p0["offered_names"], p0
    assert int(p0["negotiated"], 16) != 0 and p0["ring_layout"] == "split", p0
    assert p0["vring1_guest_tx0"][1:4] == [1, 1, 0], p0  # ready, served, by rx queue 0
    p1 = replies[3]["/vdevpeer/peer"]
    assert p1["bind"] == "vp1" and p1["state"] == "waiting" and p1["guest_mac"] == "unknown", p1
    assert got["/ethdev/stats"]["ipackets"] > 0, got
    assert got["/ethdev/info"]["name"] == "net_vdevpeer1", got
    assert replies[6]["/vdevpeer/peer"] is None, replies[6]
    g.stop()


def test_dump_commands_matches_docs(app):
    """docs/console.md carries the reference the app prints: regenerate it
    with ci/gen-docs.sh when commands change."""
    gen = subprocess.run([app, "--", "--dump-commands"], capture_output=True, text=True,
                         timeout=10, check=True).stdout
    with open(DOC) as f:
        doc = f.read()
    begin, end = "<!-- BEGIN COMMANDS -->\n", "<!-- END COMMANDS -->"
    assert begin in doc and end in doc, "docs/console.md lacks the generated block"
    block = doc[doc.index(begin) + len(begin):doc.index(end)]
    assert block.strip() == gen.strip(), "docs/console.md is stale: run ci/gen-docs.sh"


@pytest.mark.parametrize("cmd", ["show port info all", "help"])
def test_commands_need_no_stdin_in_service_mode(procs, app, cmd):
    """Without -i, text on stdin is never read as commands."""
    prefix = procs.new_prefix("svc")
    argv = ([app] + P.EAL_COMMON + ["-m", "256", "--file-prefix", prefix] + P.MIDDLE_LCORES
            + ["--vdev", "net_null0", "--", "--fwd", "rxonly"])
    p = procs.start("app", argv, prefix=prefix, stdin="pipe")
    p.wait_log(r"Forwarding started", 30)
    p.popen.stdin.write((cmd + "\nquit\n").encode())
    p.popen.stdin.close()
    # still running after its stdin was written and closed: poll a moment
    # by asking telemetry (which answers only while it runs)
    P.wait_until(lambda: P.telemetry(prefix, "/ethdev/list") == [0], 10, "telemetry answers")
    assert p.alive()
    assert "Port 0 (net_null0)\n  name" not in p.output()
    assert p.stop(signal.SIGTERM, 20) == 0


def test_bridge_commands(procs, app):
    """The bridge's console commands (from a command file, as typed in the
    console): static entries in and out of the table, aging, flush, and a
    one-line error for each bad input."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    cmds = procs.file("bridge.txt")
    with open(cmds, "w") as f:
        f.write("bridge mac add 02:00:00:00:00:01 vp1\n"      # 1
                "bridge mac add 01:00:5e:00:00:01 vp1\n"      # 2 group MAC
                "bridge mac add zz vp1\n"                     # 3 bad MAC
                "bridge mac add 02:00:00:00:00:02 nosuch\n"   # 4 bad port
                "show bridge macs\n"                          # 5
                "set bridge aging 7\n"                        # 6
                "bridge mac del 02:00:00:00:00:01\n"          # 7
                "bridge mac del 02:00:00:00:00:01\n"          # 8 not there
                "bridge flush\n"                              # 9
                "show bridge macs\n"                          # 10
                "quit\n")
    prefix = procs.new_prefix("bridge")
    argv = ([app] + P.EAL_COMMON + ["-m", "256", "--file-prefix", prefix] + P.MIDDLE_LCORES
            + ["--vdev", vdev(0, a, "vp0"), "--vdev", vdev(1, b, "vp1"),
               "--", "--fwd", "bridge", "--cmdline-file", cmds])
    p = procs.start("app", argv, prefix=prefix, stdin="closed")
    assert p.wait(30) == 0, p.tail()
    out = p.output()
    assert "Static entry 02:00:00:00:00:01 -> port 1" in out, out
    assert re.search(r"02:00:00:00:00:01\s+port 1 \(vp1\)\s+static", out), out
    assert "a group or zero MAC cannot be a static entry" in out, out
    assert "bad MAC 'zz'" in out, out
    assert "Bridge aging: 7 s" in out, out
    assert "Entry 02:00:00:00:00:01 removed" in out, out
    assert "02:00:00:00:00:01 is not in the table" in out, out
    assert re.search(r"Flushed \d+ learned entries", out), out
    tables = re.findall(r"Bridge MAC table: (\d+) entries \(of \d+\), aging (\d+) s", out)
    assert tables == [("1", "300"), ("0", "7")], tables
    # errors: lines 2, 3, 4, 8 -- each one line, nothing else
    assert len(re.findall(r"^Error: ", out, re.M)) == 4, out
