# SPDX-License-Identifier: BSD-3-Clause
"""dpdk-vdevpeer runs on hugepages as well as with --no-huge (every other
test): the app's memory comes from a hugetlbfs mount of the test's own,
the guests stay on --no-huge, frames of 60..9000 bytes pass intact.

The test reserves 2 MB hugepages if the machine has too few free, and puts
the reservation and the mount back as they were afterwards."""

import os

import pytest

from lib import frames as fr
from lib import procs as P
from lib.huge import hugetlbfs

NEED_FREE = 300  # the app's -m 512 is 256 pages of 2 MB, plus slack


@pytest.fixture
def hugedir():
    with hugetlbfs(NEED_FREE) as mnt:
        yield mnt


def test_app_on_hugepages(procs, hugedir):
    a, b = procs.sock("a.sock"), procs.sock("b.sock")
    m = P.HugeMiddle(procs, [P.PortSpec(a), P.PortSpec(b)], hugedir).start()
    # the app's memory really lives in our hugetlbfs mount
    assert any(n.startswith(m.proc.prefix) for n in os.listdir(hugedir)), os.listdir(hugedir)
    t = P.Transfer(procs, m, a, b, tx_opts={"mrg_rxbuf": 1}, rx_opts={"mrg_rxbuf": 1})
    t.check(fr.build(fr.SIZES_ALL, 5))
    assert m.stop() == 0
