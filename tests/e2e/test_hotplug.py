# SPDX-License-Identifier: BSD-3-Clause
"""Hot-plug of net_vdevpeer ports at run time (QNX 8: `ifconfig vp0 create`):
rte_dev_probe through testpmd's `port attach`, rte_dev_remove through
`device detach` / `port detach`, with and without a guest attached. The
other process (testpmd with our PMD loaded by -d) must stay up, the socket
must be released so the same path can be attached again."""

import os

from lib import procs as P


def _testpmd_console(procs):
    """Stock testpmd, interactive, our PMD as a plugin, commands fed on a
    pipe; no forwarding lcore busy (we never start forwarding)."""
    prefix = procs.new_prefix("hotplug")
    # stdout is a pipe: line-buffer testpmd's printf output (stdbuf) so its
    # replies show up as they are made
    argv = (["stdbuf", "-oL", P.TESTPMD, "-d", P.PMD_SO] + P.EAL_COMMON + ["-m", "256", "--file-prefix", prefix,
            "--lcores", "0@0,1@0", "--", "-i", "--total-num-mbufs=4096"])
    proc = procs.start("testpmd-hotplug", argv, prefix=prefix, stdin="pipe")
    proc.wait_log(r"testpmd> ", 30, what="testpmd prompt")
    return proc


def _cmd(proc, line):
    proc.popen.stdin.write((line + "\n").encode())
    proc.popen.stdin.flush()


def test_attach_detach_reattach(procs):
    assert os.path.exists(P.PMD_SO), "%s not built" % P.PMD_SO
    sock = procs.sock("hp.sock")
    dev = "net_vdevpeer0,peer=%s,server=1,bind=hp0" % sock
    tp = _testpmd_console(procs)

    _cmd(tp, "port attach " + dev)
    tp.wait_log(r"Port 0 is attached", 20)
    P.wait_until(lambda: P.unix_listening(sock), 20, "hp0 listening", fail_if=tp.died_msg)

    # a guest comes up on the hot-plugged port: link up
    _cmd(tp, "port start 0")
    g = P.Guest(procs, "guest", sock).start()
    tp.wait_log(r"hp0 \(%s\): guest ready" % sock.replace(".", r"\."), 30)

    # remove the port with the guest attached: the guest is dropped, the
    # socket file goes, testpmd lives on
    _cmd(tp, "port stop 0")
    _cmd(tp, "port close 0")
    tp.wait_log(r"hp0 \(.*\): closed", 20)
    _cmd(tp, "device detach net_vdevpeer0")
    tp.wait_log(r"Device net_vdevpeer0 is detached", 20)
    P.wait_until(lambda: not os.path.exists(sock), 10, "socket file removed",
                 fail_if=tp.died_msg)
    assert tp.alive()
    g.stop()

    # the same name and socket can be attached again, and removed with
    # `port detach` (rte_dev_remove on an open port)
    _cmd(tp, "port attach " + dev)
    tp.wait_log(r"Port 0 is attached", 20, count=2)
    P.wait_until(lambda: P.unix_listening(sock), 20, "hp0 listening again", fail_if=tp.died_msg)
    _cmd(tp, "port stop 0")
    _cmd(tp, "port detach 0")
    tp.wait_log(r"Device is detached", 20)
    P.wait_until(lambda: not P.unix_listening(sock), 10, "hp0 no longer listening",
                 fail_if=tp.died_msg)

    _cmd(tp, "quit")
    assert tp.wait(20) == 0, tp.tail()


def test_attach_bad_devargs_keeps_running(procs):
    """A bad devarg at run time fails the attach with a message naming the
    argument; the process keeps running and a good attach still works."""
    assert os.path.exists(P.PMD_SO), "%s not built" % P.PMD_SO
    sock = procs.sock("hp2.sock")
    tp = _testpmd_console(procs)
    _cmd(tp, "port attach net_vdevpeer0,peer=%s,server=1,queues=99" % sock)
    tp.wait_log(r"bad value '99' for devarg 'queues'", 20)
    _cmd(tp, "port attach net_vdevpeer1,peer=%s,server=1,colour=blue" % sock)
    tp.wait_log(r"unknown devarg 'colour'", 20)
    assert tp.alive()
    _cmd(tp, "port attach net_vdevpeer2,peer=%s,server=1" % sock)
    tp.wait_log(r"Port 0 is attached", 20)
    _cmd(tp, "quit")
    assert tp.wait(20) == 0, tp.tail()
