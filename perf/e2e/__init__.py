# SPDX-License-Identifier: BSD-3-Clause
"""The parts of perf/run-e2e.py that are not orchestration: common
settings (common), CPU placement and load (placement), the report (report)
and the plot (plot). The processes are tests/pylib/proc.py's, shared with the
end-to-end tests."""
