# SPDX-License-Identifier: BSD-3-Clause
"""A hugetlbfs mount of the test's own with enough free 2 MB pages
(tests/pylib/huge.py, shared with perf/run-e2e.py --huge): the test is
skipped when the kernel cannot reserve them."""

import contextlib
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pylib"))
import huge as _huge  # noqa: E402
from huge import NR_HUGE, free_pages  # noqa: E402,F401  (re-exported)


@contextlib.contextmanager
def hugetlbfs(pages):
    """Yield the path of a hugetlbfs mount with at least pages free 2 MB
    pages; skip the test when the kernel cannot reserve them."""
    try:
        with _huge.hugetlbfs(pages) as mnt:
            yield mnt
    except _huge.HugeUnavailable as e:
        pytest.skip(str(e))
