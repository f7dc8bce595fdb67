# SPDX-License-Identifier: BSD-3-Clause
"""The README's main job (ci/demo.sh) keeps working: both links come up,
traffic circulates through dpdk-vdevpeer, the live stats show it, and the
script exits 0 having cleaned up."""

import os
import re
import subprocess

from lib import procs as P


def test_demo_runs(tmp_path):
    env = dict(os.environ, DEMO_SECONDS="5")
    log = tmp_path / "demo.log"
    with open(log, "wb") as f:
        rc = subprocess.run(["bash", os.path.join(P.REPO, "ci", "demo.sh")], stdin=subprocess.DEVNULL,
                            stdout=f, stderr=subprocess.STDOUT, env=env, timeout=600).returncode
    out = log.read_text(errors="replace")
    assert rc == 0, out[-3000:]
    # a live stats row: "<port> vp0 up <rx-pkts> ..." with traffic
    rows = re.findall(r"^\d+\s+(vp[01])\s+up\s+(\d+)\s+\d+\s+\d+\s+(\d+)", out, re.M)
    assert {r[0] for r in rows} == {"vp0", "vp1"}, out[-3000:]
    assert any(int(rx) > 0 and int(tx) > 0 for _, rx, tx in rows), out[-3000:]
    assert "demo: done" in out
    assert not os.path.exists(P.dpdk_runtime.runtime_dir("vdp-demo-sw"))
    assert not os.path.exists(P.dpdk_runtime.runtime_dir("vdp-demo-guests"))
