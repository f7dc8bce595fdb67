# SPDX-License-Identifier: BSD-3-Clause
"""net_vdevpeer as a plugin of Debian's stock dpdk-testpmd (-d <abs path to
librte_net_vdevpeer.so>): two virtio_user guests exchange frames through
testpmd io forwarding between two net_vdevpeer ports.

EAL refuses a plugin whose directory or any parent is world-writable, so
the build tree must not live under /tmp.  Under VDP_BACKEND=vhost the same
topology runs with net_vhost instead (checks the harness, not the plugin).
"""

import os
import stat

from lib import frames as fr
from lib.procs import PMD_SO, PortSpec, Transfer


def _plugin_dir_ok():
    d = os.path.dirname(os.path.realpath(PMD_SO))
    while True:
        if os.stat(d).st_mode & stat.S_IWOTH:
            return d
        if d == "/":
            return None
        d = os.path.dirname(d)


def test_plugin_forwards(procs, middle, backend):
    kind = "plugin" if backend == "vdevpeer" else "vhost"
    if kind == "plugin":
        bad = _plugin_dir_ok() if os.path.exists(PMD_SO) else None
        assert bad is None, "EAL will refuse the plugin: %s is world-writable" % bad
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = middle([PortSpec(a), PortSpec(b)], kind=kind).start()
    if kind == "plugin":
        # it is our driver that owns the ports, not some other PMD
        m.proc.wait_log(r"net_vdevpeer", 10)
    Transfer(procs, m, a, b, tx_opts={"mrg_rxbuf": 1}, rx_opts={"mrg_rxbuf": 1}).check(
        fr.build(fr.SIZES_ALL, 5))
    Transfer(procs, m, b, a, tag="-ba").check(fr.build(fr.SIZES_STD, 5))
    assert m.stop() == 0
