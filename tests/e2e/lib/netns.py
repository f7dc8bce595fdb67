# SPDX-License-Identifier: BSD-3-Clause
"""Network namespaces and veth pairs owned by one test.

A Netns is created on entry and deleted on exit (pass or fail), which
also removes every interface in it (veths, taps). Names carry the test
process's PID so that concurrent test runs never collide; nothing is done
in the host's main namespace.
"""

import itertools
import os
import subprocess

_seq = itertools.count(1)


def _ip(*args, check=True):
    r = subprocess.run(["ip"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stdout.strip()))
    return r.stdout


def short_name(tag):
    """An interface or namespace name <= 15 characters, unique per run."""
    return ("%s%x%x" % (tag, os.getpid() % 0xFFFF, next(_seq)))[:15]


class Netns:
    def __init__(self, tag):
        self.name = "vdp-%s-%d-%d" % (tag, os.getpid(), next(_seq))

    def __enter__(self):
        _ip("netns", "add", self.name)
        self.sh("ip link set lo up")
        return self

    def __exit__(self, *exc):
        self.delete()

    def delete(self):
        _ip("netns", "delete", self.name, check=False)

    def prefix(self):
        """argv prefix that runs a command in the namespace."""
        return ["ip", "netns", "exec", self.name]

    def sh(self, cmd, check=True, timeout=60):
        r = subprocess.run(self.prefix() + ["sh", "-c", cmd], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("[netns %s] %s: exit %d: %s" % (self.name, cmd, r.returncode,
                                                             r.stdout.strip()))
        return r.stdout

    def popen(self, argv, **kw):
        return subprocess.Popen(self.prefix() + list(argv), **kw)


def veth_between(near, far, near_if, far_if):
    """A veth pair with near_if in namespace near and far_if in far."""
    _ip("-n", near.name, "link", "add", near_if, "type", "veth", "peer", "name", far_if,
        "netns", far.name)
