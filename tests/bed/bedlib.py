# SPDX-License-Identifier: Apache-2.0
"""Shared helpers for berth's test bed components (Python 3 stdlib only).

Every component module tests/bed/bed_<name>.py provides:

    start(workdir: str) -> dict
        Start the component's servers with all state under `workdir` (an
        empty directory that the bed removes afterwards). Wait, by polling
        with a deadline, until they answer. Return
        {"env": {VAR: value, ...}, "pids": [pid, ...], "info": {...}}.
        Raise BedError with a clear message on failure (after stopping what
        it started).

    ctl(workdir: str, state: dict, args: list[str]) -> dict | None  (optional)
        Change a running component (e.g. DNS records). Return the updated
        state (same shape as start's) or None when it is unchanged.

Servers listen on 127.0.0.1 only, on ports picked at run time.
"""

import errno
import os
import signal
import socket
import subprocess
import time


class BedError(Exception):
    """A component could not start or be changed; the message says why."""


def free_port(kind=socket.SOCK_STREAM, both=False):
    """Return a port that is free on 127.0.0.1 (TCP, and UDP too if both)."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if not both:
            return port
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        t = socket.socket(socket.AF_INET, other)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
    raise BedError("no free port found on 127.0.0.1")


def spawn(argv, logfile, env=None, cwd=None):
    """Start argv in its own session, output to logfile; return the Popen.

    The child does not die with the caller, so `scripts/bed start` can exit
    and leave the servers running until `scripts/bed stop`.
    """
    with open(logfile, "ab") as log:
        try:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                    start_new_session=True)
        except FileNotFoundError as e:
            raise BedError("cannot run %s: %s (run scripts/setup to install "
                           "the test bed's packages)" % (argv[0], e))


def wait_until(pred, timeout, what, proc=None, logfile=None):
    """Poll pred() every 20 ms until it is true or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BedError("%s exited with status %s before it was ready%s" %
                           (what, proc.returncode, tail(logfile)))
        try:
            if pred():
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise BedError("%s not ready after %.0f s%s" % (what, timeout, tail(logfile)))


def tail(logfile, lines=15):
    """Return the last lines of logfile, for error messages."""
    if not logfile or not os.path.exists(logfile):
        return ""
    with open(logfile, "rb") as f:
        data = f.read().decode("utf-8", "replace").splitlines()[-lines:]
    return "\n--- %s ---\n%s" % (logfile, "\n".join(data))


def tcp_open(port, host="127.0.0.1"):
    """True when something accepts TCP connections on host:port."""
    with socket.create_connection((host, port), timeout=0.5):
        return True


def pid_alive(pid):
    """True when pid runs; a zombie (killed, not yet reaped) counts as gone.

    Orphans of `scripts/bed start` are reaped by PID 1 only now and then, so
    kill(pid, 0) alone would take a dead server for a live one.
    """
    try:
        with open("/proc/%d/stat" % pid) as f:
            # The state follows the parenthesised command name.
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
        return True
    except OSError as e:
        return e.errno == errno.EPERM


def kill_pid(pid, timeout=5.0):
    """SIGTERM pid's process group (or pid), wait, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except OSError:
            try:
                os.kill(pid, sig)
            except OSError:
                return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                # Reap it if it is our child; otherwise just poll.
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done == pid:
                    return
            except ChildProcessError:
                if not pid_alive(pid):
                    return
            time.sleep(0.02)
