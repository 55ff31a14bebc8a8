"""Running under an init system: ``supervised systemd|upstart|auto``, ``daemonize yes``.

Redis' ``redisIsSupervised``/``redisCommunicateSystemd``/``daemonize`` in Python. The sd_notify
protocol is one datagram per message on the unix socket named by ``NOTIFY_SOCKET`` (a leading ``@``
is an abstract address), so it needs no libsystemd. Detection runs in ``cli`` before the server is
built (a supervised server never daemonizes, as in Redis); the server then calls ``notify`` when it
is ready and when it stops. The embedded server (``embed.py``) uses the same messages to learn that
its child is ready.
"""

from __future__ import annotations

import os
import signal
import socket
import sys

from .log import Logger


class Supervisor:
    """How the server tells its supervisor about its state (a no-op when not supervised)."""

    def __init__(self, mode: str = "no", log: Logger | None = None) -> None:
        self.mode = mode  # "systemd", "upstart" or "no"
        self.log = log
        self.daemon_ready_fd: int | None = None  # daemonize(): the waiting parent's pipe

    def notify(self, message: str) -> bool:
        """Send one sd_notify message (systemd only); False when it could not be sent."""
        if self.mode != "systemd":
            return False
        return sd_notify(message, self.log)

    def ready(self, replica: bool) -> None:
        """The server accepts connections: systemd gets READY=1, upstart a SIGSTOP, and the parent
        of ``daemonize`` exits 0."""
        fd, self.daemon_ready_fd = self.daemon_ready_fd, None
        if fd is not None:
            try:
                os.write(fd, b"1")
            except OSError:
                pass
            os.close(fd)
        if self.mode == "systemd":
            if replica:
                self.notify("STATUS=Ready to accept connections in read-only mode. "
                            "Waiting for MASTER <-> REPLICA sync\n")
            else:
                self.notify("STATUS=Ready to accept connections\n")
            self.notify("READY=1\n")
        elif self.mode == "upstart":
            os.environ.pop("UPSTART_JOB", None)
            os.kill(os.getpid(), signal.SIGSTOP)

    def stopping(self) -> None:
        self.notify("STOPPING=1\n")


def sd_notify(message: str, log: Logger | None = None) -> bool:
    path = os.environ.get("NOTIFY_SOCKET", "")
    if not path:
        if log is not None:
            log("warning", "systemd supervision error: NOTIFY_SOCKET not found!")
        return False
    address = "\0" + path[1:] if path.startswith("@") else path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.sendto(message.encode(), address)
    except OSError as e:
        if log is not None:
            log("warning", "systemd supervision error: sd_notify: %d" % -(e.errno or 1))
        return False
    return True


def detect(mode: str, log: Logger) -> Supervisor:
    """Resolve the ``supervised`` setting like Redis' redisIsSupervised (logs what it decided)."""
    if mode == "auto":
        if "UPSTART_JOB" in os.environ:
            mode = "upstart"
        elif "NOTIFY_SOCKET" in os.environ:
            mode = "systemd"
        else:
            mode = "no"
    if mode == "upstart":
        if "UPSTART_JOB" not in os.environ:
            log("verbose", "upstart supervision requested, but UPSTART_JOB not found!")
            return Supervisor("no", log)
        log("notice", "supervised by upstart, will stop to signal readiness.")
        return Supervisor("upstart", log)
    if mode == "systemd":
        if not sd_notify("STATUS=Redis is loading...\n", log):
            return Supervisor("no", log)
        log("notice", "Supervised by systemd. Please make sure you set appropriate values for "
            "TimeoutStartSec and TimeoutStopSec in your service unit.")
        return Supervisor("systemd", log)
    return Supervisor("no", log)


def daemonize() -> int:
    """Fork into the background like redis-server: the child leads a new session with
    stdin/stdout/stderr on /dev/null (log lines go to ``logfile``, or nowhere).

    Unlike redis-server, whose parent exits at once, the parent waits until the server accepts
    connections (exit 0) or has died trying (exit 1), as systemd's ``Type=forking`` and init
    scripts expect: a script can use the server on the next line. Returns the pipe the child
    writes to when ready (``Supervisor.daemon_ready_fd``)."""
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    if os.fork() != 0:
        os.close(w)
        try:
            ready = os.read(r, 1)
        except OSError:
            ready = b""
        os._exit(0 if ready == b"1" else 1)
    os.close(r)
    os.setsid()
    fd = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(fd, target)
    if fd > 2:
        os.close(fd)
    return w
