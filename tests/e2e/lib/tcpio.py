# SPDX-License-Identifier: BSD-3-Clause
"""TCP file transfer end for the tests, run inside a test's namespace:

    python3 tcpio.py recv ADDR PORT NBYTES   accept one connection, read NBYTES,
                                             close; print 'sha256 HEX bytes N seconds S'
    python3 tcpio.py send ADDR PORT FILE     connect (retrying until the peer
                                             listens, 60 s), send FILE, close;
                                             print 'sha256 HEX bytes N seconds S'
Prints 'listening' once a receiver listens (the test waits for that line).
"""

import hashlib
import socket
import sys
import time


def recv(addr, port, nbytes):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(300)
    print("listening", flush=True)
    c, _ = ls.accept()
    c.settimeout(300)
    h, n, t0 = hashlib.sha256(), 0, None
    while n < nbytes:
        d = c.recv(min(65536, nbytes - n))
        if not d:
            break
        if t0 is None:
            t0 = time.monotonic()
        h.update(d)
        n += len(d)
    dt = time.monotonic() - (t0 or time.monotonic())
    c.close()
    ls.close()
    print("sha256 %s bytes %d seconds %.3f" % (h.hexdigest(), n, dt), flush=True)


def send(addr, port, path):
    data = open(path, "rb").read()
    deadline = time.monotonic() + 60
    while True:
        try:
            s = socket.create_connection((addr, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    s.settimeout(300)
    t0 = time.monotonic()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):      # until the peer closes: everything arrived
        pass
    dt = time.monotonic() - t0
    s.close()
    print("sha256 %s bytes %d seconds %.3f" % (hashlib.sha256(data).hexdigest(), len(data), dt),
          flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4])
