# SPDX-License-Identifier: BSD-3-Clause
"""Zero-copy of guest TX buffers (devarg zerocopy=auto|on|off): frames
arrive intact in every mode, buffers held by the application come back,
a stalled egress port never stops a guest's TX, and guest memory stays
mapped while an mbuf points into it (guest gone, memory table changed).

Counters come from the middle's xstats over DPDK telemetry:
rx_zc_frames, rx_zc_copied_frames, rx_zc_fallbacks, rx_zc_reclaims,
rx_zc_forced, rx_zc_inflight.
"""

import pytest

from lib import frames as fr
from lib import procs as P
from lib.procs import PortSpec, Transfer, wait_until

pytestmark = pytest.mark.vdevpeer_only


def xstats(m, port):
    return P.telemetry(m.proc.prefix, "/ethdev/xstats,%d" % port) or {}


def pair(procs, middle, mode, **kw):
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    dv = {"zerocopy": mode}
    m = middle([PortSpec(a, devargs=dv), PortSpec(b, devargs=dv)], **kw).start()
    return m, a, b


@pytest.mark.parametrize("mode", ["auto", "on", "off"])
def test_content(procs, middle, backend, mode):
    """Frames of 60..9000 bytes, A to B, byte-identical and in order; the
    counters say which frames went zero-copy: every frame past its header
    copy with on, the large ones with auto, none with off. IN_ORDER is
    negotiated only with off. Afterwards nothing is held."""
    m, a, b = pair(procs, middle, mode)
    frames = fr.build(fr.SIZES_ALL, 10)
    t = Transfer(procs, m, a, b, tx_opts={"mrg_rxbuf": 1}, rx_opts={"mrg_rxbuf": 1})
    t.check(frames)
    xs = xstats(m, 0)
    big = sum(1 for f in frames if len(f) > 1024 + 14)
    over_hdr = sum(1 for f in frames if len(f) > 129)
    if mode == "on":
        assert xs["rx_zc_frames"] == over_hdr, xs
    elif mode == "auto":
        assert big <= xs["rx_zc_frames"] <= over_hdr, xs
    else:
        assert xs["rx_zc_frames"] == 0 and xs["rx_zc_copied_frames"] == 0, xs
    wait_until(lambda: xstats(m, 0)["rx_zc_inflight"] == 0, 10, "no buffer held")
    log = m.proc.log()
    negotiated = [l for l in log.splitlines() if "guest ready" in l]
    assert negotiated, "no 'guest ready' line in the middle's log"
    for line in negotiated:
        assert ("IN_ORDER" in line) == (mode == "off"), line
