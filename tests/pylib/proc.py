# SPDX-License-Identifier: BSD-3-Clause
"""The one process wrapper and the one wait helper of the tests (tests/e2e)
and the benchmarks (perf/run-e2e.py).

Proc: a child process with its output in a log file (the command line
echoed first), started with stdin from /dev/null, closed, or a pipe, in
its own session unless asked otherwise; optionally its output read line by
line into a queue as well (a pump thread writes the log). It is stopped by
PID only: a first signal (SIGINT: DPDK apps clean up on it), then, after a
timeout, SIGTERM and SIGKILL; it is reaped, its log closed, and the DPDK
runtime directory of its --file-prefix removed (tests/pylib/dpdk_runtime.py).

wait_until: poll a condition with a deadline, giving up at once when a
process the wait depends on has died. Callers choose the exception it
raises, so that their own except clauses keep working.
"""

import os
import queue
import re
import shlex
import signal
import subprocess
import threading
import time

import dpdk_runtime


class WaitError(Exception):
    """A wait_until that failed (default exception)."""


def wait_until(cond, timeout, what, interval=0.05, fail_if=None, error=WaitError,
               timeout_error=None):
    """Poll cond() until it returns a true value; return that value.

    fail_if, if given, is polled too: when it returns a true value (a
    message), give up at once (e.g. the process we wait on has died) by
    raising error. On timeout raise timeout_error (default: error).
    """
    deadline = time.monotonic() + timeout
    while True:
        val = cond()
        if val:
            return val
        if fail_if is not None:
            msg = fail_if()
            if msg:
                raise error("while waiting for %s: %s" % (what, msg))
        if time.monotonic() >= deadline:
            raise (timeout_error or error)("timed out after %.1fs waiting for %s"
                                           % (timeout, what))
        time.sleep(interval)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Proc:
    """One process we started, with its output in a log file.

    stdin: "devnull" (default), "closed" (fd 0 really closed: a service must
    not care) or "pipe" (popen.stdin, binary). lines=True: the output also
    goes, line by line, to the queue self.lines (None after the last line;
    next_line() reads it). prefix: the process's DPDK --file-prefix, whose
    runtime directory stop() and kill() remove. note: called with a message
    when a signal had to be escalated.
    """

    # Sent in turn when the process outlived the first signal's timeout:
    # (signal, seconds to wait after it).
    escalation = ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0))
    # What wait_log raises (died / timed out); subclasses use their callers'.
    error = WaitError
    timeout_error = None

    def __init__(self, name, argv, log_path, prefix=None, stdin="devnull", env=None, cwd=None,
                 new_session=True, lines=False, note=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.prefix = prefix
        self.note = note
        self.returncode = None
        self.ignored = []       # the signals it outlived in stop()
        self.last_signal = None
        self._log = open(log_path, "wb")
        self._log.write(("$ " + " ".join(shlex.quote(a) for a in self.argv) + "\n").encode())
        self._log.flush()
        preexec = None
        if stdin == "closed":
            stdin_arg = None
            preexec = lambda: os.close(0)  # noqa: E731
        elif stdin == "pipe":
            stdin_arg = subprocess.PIPE
        else:
            stdin_arg = subprocess.DEVNULL
        self.lines = queue.Queue() if lines else None
        self.popen = subprocess.Popen(
            self.argv, stdin=stdin_arg, stdout=subprocess.PIPE if lines else self._log,
            stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=new_session,
            preexec_fn=preexec)
        self.pid = self.popen.pid
        self.started = time.monotonic()
        self._pump_thread = None
        if lines:
            self._pump_thread = threading.Thread(target=self._pump, daemon=True,
                                                 name="pump-%s" % name)
            self._pump_thread.start()

    def __repr__(self):
        return "<Proc %s pid=%d>" % (self.name, self.pid)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- output ---------------------------------------------------------------
    def _pump(self):
        for raw in self.popen.stdout:
            try:
                self._log.write(raw)
                self._log.flush()
            except (ValueError, OSError):
                pass
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        self.lines.put(None)

    def next_line(self, timeout):
        """lines=True: the next line of output; "" if none came within
        timeout, None once the output has ended."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    def log(self):
        """The log (command line first), without terminal escapes."""
        try:
            with open(self.log_path, "rb") as f:
                return _ANSI.sub("", f.read().decode("utf-8", "replace"))
        except OSError:
            return ""

    def output(self):
        """The process's output, without the command line echoed at the top
        of the log (so that an argument found here was printed by it)."""
        log = self.log()
        return log.split("\n", 1)[1] if "\n" in log else ""

    def tail(self, n=60, skip_blank=False):
        lines = self.log().splitlines()
        if skip_blank:
            lines = [l for l in lines if l.strip()]
        return "\n".join(lines[-n:])

    def excerpt(self, head=60, tail=120):
        # testpmd's periodic statistics make long logs: drop blank lines.
        lines = [l for l in self.log().splitlines() if l.strip()]
        if len(lines) <= head + tail:
            return "\n".join(lines)
        return "\n".join(lines[:head] + ["[... %d lines ...]" % (len(lines) - head - tail)]
                         + lines[-tail:])

    def count(self, pattern):
        return len(re.findall(pattern, self.log()))

    def wait_log(self, pattern, timeout=20, count=1, what=None):
        """Wait until pattern (a regex) has matched count times in the log;
        return the last match. Gives up when the process dies."""
        rx = re.compile(pattern)

        def cond():
            m = list(rx.finditer(self.log()))
            return m[count - 1] if len(m) >= count else None
        return wait_until(cond, timeout, what or "%r in %s's log" % (pattern, self.name),
                          fail_if=self.died_msg, error=self.error,
                          timeout_error=self.timeout_error)

    def wait_log_nodeath(self, pattern, timeout=20):
        """Like wait_log, but the process may exit meanwhile (e.g. waiting
        for an error message of a process that is expected to fail)."""
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.log()), timeout,
                          "%r in %s's log" % (pattern, self.name), error=self.error,
                          timeout_error=self.timeout_error)

    # -- state ----------------------------------------------------------------
    def alive(self):
        if self.returncode is not None:
            return False
        rc = self.popen.poll()
        if rc is not None:
            self._reap(rc)
            return False
        return True

    def _reap(self, rc):
        self.returncode = rc
        if self._pump_thread is not None:
            self._pump_thread.join(5)
        try:
            self._log.close()
        except OSError:
            pass

    def died_msg(self):
        """For wait_until(fail_if=...): a message once the process is gone."""
        if self.alive():
            return None
        return "%s (pid %d) exited with %s; log %s:\n%s" % (
            self.name, self.pid, self.returncode, self.log_path, self.tail(40))

    # -- stopping -------------------------------------------------------------
    def send(self, sig):
        """Send sig, by PID, if the process still runs."""
        if self.alive():
            try:
                os.kill(self.pid, sig)
                self.last_signal = sig
            except ProcessLookupError:
                pass

    def wait(self, timeout):
        """Wait for exit; return the exit code, or None on timeout."""
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reap(rc)
        return rc

    def _cleanup(self):
        if self.returncode is not None and self.prefix:
            dpdk_runtime.remove_runtime_dir(self.prefix)

    def stop(self, sig=signal.SIGINT, timeout=15):
        """Send sig, wait up to timeout, then escalate (self.escalation:
        SIGTERM, then SIGKILL), by PID only. sig=None: the first signal was
        sent already (send()), only wait and escalate. Reaps the process,
        removes its runtime dir; returns the exit code (negative: killed by
        that signal)."""
        if sig is not None:
            self.send(sig)
        first = self.last_signal
        if self.alive() and self.wait(timeout) is None:
            waited = timeout
            for nsig, wait in self.escalation:
                if first is not None:
                    self.ignored.append(first)
                if self.note:
                    self.note("%s (pid %d) ignored %s for %g s: %s"
                              % (self.name, self.pid, _signame(first), waited, _signame(nsig)))
                self.send(nsig)
                if not self.alive() or self.wait(wait) is not None:
                    break
                first, waited = nsig, wait
        self._cleanup()
        return self.returncode

    def kill(self):
        """SIGKILL by PID; reap; remove the runtime dir."""
        self.send(signal.SIGKILL)
        if self.returncode is None:
            self.wait(10)
        self._cleanup()
        return self.returncode


def _signame(sig):
    return signal.Signals(sig).name if sig is not None else "its signal"
