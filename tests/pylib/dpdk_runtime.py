# SPDX-License-Identifier: BSD-3-Clause
"""What the tests (tests/e2e) and the benchmarks (perf/) both need to know
about a running DPDK process: where EAL put its runtime directory, how to
ask its telemetry, how to remove what it left. One rule for everybody.

EAL's rule (eal_create_runtime_dir): root puts /var/run/dpdk/<prefix>,
anyone else $XDG_RUNTIME_DIR/dpdk/<prefix> (/tmp/dpdk/<prefix> without it).
"""
import json
import os
import shutil
import socket

ROOT_BASE = "/var/run"


def _bases():
    """Every base EAL may have used, this process's own first."""
    xdg = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    own = ROOT_BASE if os.getuid() == 0 else xdg
    return [own] + [b for b in (ROOT_BASE, xdg, "/tmp") if b != own]


def runtime_dir(prefix):
    """The runtime directory of a process with --file-prefix prefix started
    by this user."""
    return os.path.join(_bases()[0], "dpdk", prefix)


def remove_runtime_dir(prefix):
    """Remove prefix's runtime directory wherever EAL may have put it (a
    child may have run as another user). A prefix that is not a plain name
    is ignored."""
    if not prefix or "/" in prefix or prefix in (".", ".."):
        return
    for base in _bases():
        shutil.rmtree(os.path.join(base, "dpdk", prefix), ignore_errors=True)


STATE_DIR = "vdevpeer-state"


def state_files(sockdir):
    """The ring-state files net_vdevpeer ports keep for sockets under
    sockdir (drivers/net/vdevpeer/vdevpeer_state.c: <base>/dpdk/
    vdevpeer-state/<socket path with % and / escaped>.state). A port
    removes its own at a clean close; a killed one leaves it for its next
    incarnation."""
    want = os.path.abspath(sockdir).rstrip("/") + "/"
    out = []
    for base in _bases():
        d = os.path.join(base, "dpdk", STATE_DIR)
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for n in names:
            if not n.endswith(".state"):
                continue
            path = n[:-len(".state")].replace("%2F", "/").replace("%25", "%")
            if path.startswith(want):
                out.append(os.path.join(d, n))
    return out


def remove_state_files(sockdir):
    """Remove the ring-state files of sockets under sockdir, and their
    directory once it is empty (the ports make it when they start)."""
    for f in state_files(sockdir):
        try:
            os.unlink(f)
        except OSError:
            pass
    for base in _bases():
        try:
            os.rmdir(os.path.join(base, "dpdk", STATE_DIR))
        except OSError:
            pass   # not there, or another port's file is in it


def telemetry(prefix, cmd, timeout=5):
    """One query on the telemetry v2 socket of the process with
    --file-prefix prefix: the decoded value of cmd (None when the command
    gave none)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    try:
        s.connect(os.path.join(runtime_dir(prefix), "dpdk_telemetry.v2"))
        info = json.loads(s.recv(64 * 1024).decode())
        s.send(cmd.encode())
        reply = json.loads(s.recv(int(info.get("max_output_len", 16384)) + 1024).decode())
    finally:
        s.close()
    return reply.get(cmd.split(",")[0])
