# SPDX-License-Identifier: BSD-3-Clause
"""The plot of perf/run-e2e.py (docs/benchmarks.png): received Mpps per
frame size and backend, drawn by gnuplot."""

import os
import shutil
import subprocess

from .common import DEFAULT_BACKENDS as BACKENDS, log


def make_plot(cells, results, png, workdir):
    gp = shutil.which("gnuplot")
    if gp is None:
        log("gnuplot not found (apt-get install gnuplot-nox): no plot")
        return False
    if not any("rx_pps_median" in r for r in results.values()):
        log("no successful run: no plot")
        return False
    dat = os.path.join(workdir, "plot.dat")
    with open(dat, "w") as f:
        f.write("# idx size, then med min max of: vdevpeer vdevpeer-copy vhost\n")
        for i, cell in enumerate(cells):
            cols = [str(i), '"%s"' % cell.label]
            for b in BACKENDS:
                r = results.get((b, cell))
                if r and "rx_pps_median" in r:
                    cols += ["%.6f" % (r[k] / 1e6) for k in ("rx_pps_median", "rx_pps_min", "rx_pps_max")]
                else:
                    cols += ["NaN"] * 3
            f.write(" ".join(cols) + "\n")
    script = """
set terminal pngcairo size 900,540 font ",11"
set output '%(png)s'
set title "Guest-to-guest frame rate through the backend (1 worker lcore, io forwarding)"
set xlabel "frame size (bytes, without FCS)"
set ylabel "received Mpps (median; bars: min–max)"
set logscale y
set grid ytics
set key top right
set xrange [-0.5:%(xmax)f]
set style data yerrorlines
plot '%(dat)s' using ($1-0.07):3:4:5:xtic(2) title 'net\\_vdevpeer (ours, zerocopy=auto)' lw 2 pt 7, \\
     '%(dat)s' using ($1):6:7:8 title 'net\\_vdevpeer zerocopy=off' lw 2 pt 9, \\
     '%(dat)s' using ($1+0.07):9:10:11 title 'net\\_vhost (DPDK)' lw 2 pt 5
""" % {"png": png, "dat": dat, "xmax": len(cells) - 0.5}
    gpf = os.path.join(workdir, "plot.gp")
    with open(gpf, "w") as f:
        f.write(script)
    r = subprocess.run([gp, gpf], capture_output=True, text=True)
    if r.returncode != 0 or "pngcairo" in r.stderr:
        # gnuplot-nox has no cairo: fall back to the gd terminal.
        script = script.replace('set terminal pngcairo size 900,540 font ",11"',
                                "set terminal png size 900,540")
        with open(gpf, "w") as f:
            f.write(script)
        r = subprocess.run([gp, gpf], capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed: %s" % r.stderr.strip())
        return False
    return True
