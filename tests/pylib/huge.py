# SPDX-License-Identifier: BSD-3-Clause
"""A hugetlbfs mount of the caller's own with enough free 2 MB pages: the
reservation is raised if need be, and the mount and the reservation are
put back as they were afterwards, whatever happened. Used by the e2e tests
(tests/e2e/lib/huge.py: a test is skipped when the pages cannot be had)
and by perf/run-e2e.py --huge."""

import contextlib
import os
import subprocess
import tempfile

NR_HUGE = "/proc/sys/vm/nr_hugepages"


class HugeUnavailable(Exception):
    """The kernel could not reserve the pages asked for."""


def free_pages():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                return int(line.split()[1])
    return 0


@contextlib.contextmanager
def hugetlbfs(pages):
    """Yield the path of a hugetlbfs mount with at least pages free 2 MB
    pages; HugeUnavailable when the kernel cannot reserve them."""
    with open(NR_HUGE) as f:
        old = int(f.read())
    changed = False
    if free_pages() < pages:
        with open(NR_HUGE, "w") as f:
            f.write(str(old + pages - free_pages()))
        changed = True
    mnt = tempfile.mkdtemp(prefix="vdp-huge-")
    mounted = False
    try:
        if free_pages() < pages:
            raise HugeUnavailable("the kernel could not reserve %d free 2 MB hugepages" % pages)
        subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", mnt], check=True)
        mounted = True
        yield mnt
    finally:
        try:
            # lazy if a process we could not stop still maps a page
            if mounted and subprocess.run(["umount", mnt]).returncode != 0:
                subprocess.run(["umount", "-l", mnt], check=False)
            os.rmdir(mnt)
        finally:
            if changed:
                with open(NR_HUGE, "w") as f:
                    f.write(str(old))
