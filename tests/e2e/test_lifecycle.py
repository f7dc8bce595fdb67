# SPDX-License-Identifier: BSD-3-Clause
"""Connect, disconnect, restart: the middle box survives guests coming and
going under traffic, guests survive the middle box restarting, no mbuf is
lost on the way, and a listening socket is taken over only when it is dead.

Continuous traffic: a flood guest (testpmd txonly on its virtio_user port)
and a sink guest (testpmd rxonly).  "Traffic passes" means the sink's
RX-packets counter (testpmd --stats-period 1) grows.
"""

import os
import re
import signal
import socket
import warnings

import pytest

from lib import frames as fr
from lib.procs import Guest, PortSpec, Transfer, unix_listening, make_stale_socket, wait_until

LOOP = ["--port-topology=loop"]


def flood(procs, name, sock, **kw):
    return Guest(procs, name, sock, fwd="txonly", extra_args=LOOP, **kw)


def sink(procs, name, sock, **kw):
    return Guest(procs, name, sock, fwd="rxonly", extra_args=LOOP, **kw)


def rx_count(g):
    return g.nic(g.virtio_port).get("RX-packets", 0)


def wait_traffic(g, above, timeout=30):
    """Wait until sink g has received more than `above` frames."""
    g.wait_counter(g.virtio_port, "RX-packets", above + 1, timeout)
    return rx_count(g)


def test_guest_reconnect_under_traffic(procs, middle):
    """(a) Ten times, one of the two guests goes away under traffic (killed
    outright or stopped with SIGINT) and comes back on the same socket; the
    middle listens (server=1).  Traffic resumes each time, the middle stays
    up, and at the end it exits 0 on SIGINT."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = middle([PortSpec(a), PortSpec(b)]).start()
    rx = sink(procs, "sink", b).start()
    m.wait_ready(b, 1)
    tx = flood(procs, "flood", a).start()
    m.wait_ready(a, 1)
    wait_traffic(rx, 0)
    ready = {a: 1, b: 1}   # connections the middle has seen per socket
    for i in range(10):
        sig = signal.SIGKILL if i % 4 < 2 else signal.SIGINT
        if i % 2 == 0:
            tx.proc.stop(sig)
            tx = flood(procs, "flood", a).start()
            ready[a] += 1
            m.wait_ready(a, ready[a])
            # counters of the sink keep running; new frames must arrive
            wait_traffic(rx, rx_count(rx))
        else:
            rx.proc.stop(sig)
            rx = sink(procs, "sink", b).start()
            ready[b] += 1
            m.wait_ready(b, ready[b])
            wait_traffic(rx, 0)
        assert m.proc.alive(), "middle died after guest cycle %d" % i
    assert m.stop(signal.SIGINT) == 0
    if m.kind == "vdevpeer":
        assert re.search(r"(?i)final stat", m.proc.log()), "no final statistics at exit"


@pytest.mark.parametrize("layout", ["split", "packed"])
@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_backend_restart(procs, middle, how, layout):
    """(b) The middle restarts while the guests stay up: guests listen
    (virtio_user server=1), the middle connects (server=0) and must
    reconnect after its restart; traffic resumes. virtio_user sets a
    packed ring up afresh when its backend comes back: a restarted
    net_vdevpeer must then take the guest's positions, not the state its
    killed predecessor left (vmm_resume_refused)."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    virtio = ["packed_vq=1"] if layout == "packed" else []
    rx = sink(procs, "sink", b, server=True, extra_virtio=virtio).start()
    tx = flood(procs, "flood", a, server=True, extra_virtio=virtio).start()
    m = middle([PortSpec(a, server=False), PortSpec(b, server=False)]).start()
    m.wait_ready(a)
    m.wait_ready(b)
    wait_traffic(rx, 0)
    for i in range(2):
        if how == "sigint":
            assert m.stop(signal.SIGINT) == 0
        else:
            m.kill()
        seen = rx_count(rx)
        m.start()
        m.wait_ready(a)
        m.wait_ready(b)
        wait_traffic(rx, seen)
        assert tx.proc.alive() and rx.proc.alive()
    assert m.stop(signal.SIGINT) == 0


_POOL_RX = re.compile(r"(?i)mbuf pool (\S+?):?\s.*?(\d+)\s+in[ -]use")


def test_mbufs_come_back(procs, middle, backend):
    """(c) Guests disconnecting abruptly in the middle of a flood must not
    leak mbufs.  The middle gets a small pool (2048 mbufs, far fewer than
    the frames flooded through it); after five abrupt disconnects a
    frame-exact transfer still passes, which it cannot once the pool has
    leaked away.  If the app prints an 'N in use' figure for its pool, the
    figure at exit must be what it was before any traffic."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    if backend == "vdevpeer":
        args = ["--mbufs", "2048"]
    else:
        args = ["--total-num-mbufs=2048"]
    m = middle([PortSpec(a), PortSpec(b)], app_args=args).start()
    for i in range(5):
        rx = sink(procs, "sink", b).start()
        m.wait_ready(b, i + 1)
        tx = flood(procs, "flood", a).start()
        m.wait_ready(a, i + 1)
        wait_traffic(rx, 5000)
        tx.kill()
        rx.kill()
    t = Transfer(procs, m, a, b, tx_opts={"mrg_rxbuf": 1}, rx_opts={"mrg_rxbuf": 1})
    t.check(fr.build(fr.SIZES_ALL, 10))
    log_before_stop = len(m.proc.log())
    assert m.stop(signal.SIGINT) == 0
    log = m.proc.log()
    start = {k: int(v) for k, v in _POOL_RX.findall(log[:log_before_stop])}
    end = {k: int(v) for k, v in _POOL_RX.findall(log[log_before_stop:])}
    if backend == "vdevpeer" and not end:
        warnings.warn(pytest.PytestWarning(
            "dpdk-vdevpeer prints no 'N in use' figure for its mbuf pool at exit: "
            "mbuf leaks checked by pool exhaustion only"))
    for name, n in end.items():
        assert n == start.get(name, 0), "pool %s: %d in use at exit, %d at start" % (name, n, start.get(name, 0))


@pytest.mark.vdevpeer_only
def test_stale_socket_replaced(procs, middle):
    """(d) server=1 over a socket file left behind by a dead process: it is
    replaced and works."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    make_stale_socket(a)
    assert os.path.exists(a) and not unix_listening(a)
    m = middle([PortSpec(a), PortSpec(b)]).start()   # waits until both listen
    Transfer(procs, m, a, b).check(fr.build(fr.SIZES_STD, 3))
    assert m.stop() == 0


@pytest.mark.vdevpeer_only
def test_live_socket_refused(procs, middle):
    """(d) server=1 on a path where another process listens: refused with
    a message naming the socket, the other listener left alone."""
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(a)
    live.listen(1)
    ino = os.stat(a).st_ino
    try:
        m = middle([PortSpec(a), PortSpec(b)])
        m.start(wait_listen=False)
        rc = m.proc.wait(30)
        assert rc is not None, "middle did not exit although its port 0 socket is taken"
        assert rc != 0
        log = m.proc.log()
        assert a in log, "no message names the socket %s" % a
        assert re.search(r"(?i)(listen|in use|refus|taken|busy)", log)
        assert unix_listening(a) and os.stat(a).st_ino == ino, "the live listener's socket was touched"
    finally:
        live.close()
