"""``fastredis.embedded()``: a real fastredis server for tests and notebooks, started from Python.

The server runs in a child process, not in a thread of the caller:

- a crash of the server (a bug, ``DEBUG SEGFAULT``, ``SHUTDOWN``, an ``os._exit``) cannot take the
  caller down, and nothing the caller does (monkeypatching, a busy loop, its own event loop) can
  stall the server;
- the server does not compete with the caller for the GIL, so a test's client and the server
  run in parallel as they would against a real Redis;
- the server keeps what it owns as a process: signal handlers, ``fork()`` for BGSAVE, its
  working directory (``dir``), and its memory is returned when it stops.

Start-up is kept short (well under 200 ms; ``benchmarks/embedded_startup.py``):

- the parent binds the listening socket itself (port 0 picks a free port with no race between
  choosing it and binding it) and hands the bound socket to the child;
- the child interpreter starts without ``site`` (``-S``: no ``.pth`` processing) and gets the
  parent's ``sys.path`` instead, so it imports the same fastredis and dependencies as the caller;
- readiness is the server's own sd_notify ``READY=1`` (``supervised systemd``) sent to a datagram
  socket the handle owns: no polling, and an early exit is reported with the server's log.

The child also watches a pipe from the parent: when the caller exits, even by SIGKILL, the pipe
closes and the server shuts down instead of lingering.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from typing import Any

__all__ = ["EmbeddedServer", "EmbeddedServerError", "embedded"]

LOG_NAME = "fastredis.log"
NOTIFY_NAME = "notify.sock"


class EmbeddedServerError(RuntimeError):
    """The embedded server could not start (its log is in the message)."""


def _config_args(config: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Keyword config (``maxmemory_policy="allkeys-lru"``) as redis-server arguments.

    ``True``/``False`` are ``yes``/``no``; a list or tuple repeats the directive (``loadmodule``,
    ``save`` points given one by one)."""
    args: list[str] = []
    shown: dict[str, str] = {}
    for key, value in config.items():
        name = key.replace("_", "-").lower()
        values = value if isinstance(value, (list, tuple)) else [value]
        texts = []
        for v in values:
            if isinstance(v, bool):
                text = "yes" if v else "no"
            elif isinstance(v, bytes):
                text = v.decode()
            else:
                text = str(v)
            if name == "loadmodule":  # the path is the caller's (the server runs in its ``dir``)
                words = text.split(" ")
                words[0] = os.path.abspath(words[0])
                text = " ".join(words)
                texts.append(text)
                args += ["--loadmodule", *words]
                continue
            texts.append(text)
            args += [f"--{name}", text]
        shown[name] = " ".join(texts) if len(texts) > 1 else (texts[0] if texts else "")
    return args, shown


class _Resources:
    """What a handle owns, released by stop() or, if the caller forgets, at interpreter exit."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir: str | None = None  # private folder: log, notify socket, default ``dir``
        self.notify: socket.socket | None = None
        self.lifeline: int | None = None  # the parent's end of the pipe the child watches
        self.log: Any = None

    def release(self, timeout: float = 10.0) -> int | None:
        code = None
        proc = self.proc  # kept: the handle still reports its returncode
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            code = proc.returncode
        if self.lifeline is not None:
            os.close(self.lifeline)
            self.lifeline = None
        if self.notify is not None:
            self.notify.close()
            self.notify = None
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        return code


class EmbeddedServer:
    """A fastredis server in a child process, ready to serve when the constructor returns.

    ``port=0`` picks a free port. Keyword arguments are server config (``appendonly="yes"``,
    ``maxmemory="10mb"``, ``save=""``...); by default nothing is saved (``save ""``) and ``dir`` is
    a private temporary folder removed by ``stop()``. Use as a context manager or call ``stop()``.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", startup_timeout: float = 15.0,
                 **config: Any) -> None:
        self.host = host
        self._res = _Resources()
        self._finalizer = weakref.finalize(self, self._res.release)
        try:
            self._start(port, host, startup_timeout, config)
        except BaseException:
            self._finalizer()
            raise

    def _start(self, port: int, host: str, startup_timeout: float, config: dict[str, Any]) -> None:
        res = self._res
        res.workdir = tempfile.mkdtemp(prefix="fastredis-embedded-")
        options: dict[str, Any] = {"save": "", "dir": res.workdir}
        options.update(config)
        options["bind"] = host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.create_server((host, port), family=family, backlog=511)
        self.port = int(listener.getsockname()[1])
        options["port"] = self.port
        options["supervised"] = "systemd"  # readiness comes as sd_notify READY=1
        args, self.config = _config_args(options)
        self.dir = str(options["dir"])

        notify_path = os.path.join(res.workdir, NOTIFY_NAME)
        res.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        res.notify.bind(notify_path)
        child_end, res.lifeline = os.pipe()
        self.log_path = os.path.join(res.workdir, LOG_NAME)
        res.log = open(self.log_path, "ab")  # noqa: SIM115  (kept open for the child's lifetime)
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        path = [package_parent] + [os.path.abspath(p) if p else os.getcwd() for p in sys.path]
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        env.pop("UPSTART_JOB", None)
        try:
            res.proc = subprocess.Popen(
                [sys.executable, "-S", "-c", "import sys; sys.path[:] = sys.argv[1].split('\\n'); "
                 "from fastredis._embed_child import main; main()",
                 "\n".join(path), str(listener.fileno()), str(child_end), res.workdir, *args],
                stdin=subprocess.DEVNULL, stdout=res.log, stderr=subprocess.STDOUT, env=env,
                pass_fds=(listener.fileno(), child_end), start_new_session=True)
        finally:
            listener.close()  # the child holds the port now: stop() frees it
            os.close(child_end)
        self.pid = res.proc.pid
        self._wait_ready(startup_timeout)

    def _wait_ready(self, timeout: float) -> None:
        res = self._res
        assert res.proc is not None and res.notify is not None
        deadline = time.monotonic() + timeout
        while True:
            readable, _, _ = select.select([res.notify], [], [], 0.02)
            if readable and b"READY=1" in res.notify.recv(4096):
                return
            if res.proc.poll() is not None:
                raise EmbeddedServerError(
                    f"fastredis server exited with code {res.proc.returncode} before it was ready:\n"
                    + self.log_text()[-4000:])
            if time.monotonic() > deadline:
                raise EmbeddedServerError(f"fastredis server not ready after {timeout} s:\n"
                                          + self.log_text()[-4000:])

    # -- the handle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``redis://host:port/0`` (with the password when ``requirepass`` is set)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        password = self.config.get("requirepass", "")
        auth = f":{password}@" if password else ""
        return f"redis://{auth}{host}:{self.port}/0"

    @property
    def running(self) -> bool:
        proc = self._res.proc
        return proc is not None and proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code once the server process has ended (``None`` while it runs)."""
        proc = self._res.proc
        return None if proc is None else proc.poll()

    def client(self, **kwargs: Any) -> Any:
        """A redis-py client for this server (keyword arguments go to ``redis.Redis``)."""
        import redis

        kwargs.setdefault("host", self.host)
        kwargs.setdefault("port", self.port)
        if self.config.get("requirepass"):
            kwargs.setdefault("password", self.config["requirepass"])
        return redis.Redis(**kwargs)

    def log_text(self) -> str:
        """What the server wrote to its log so far (when ``logfile`` is not set)."""
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> int | None:
        """Shut the server down (SIGTERM, SIGKILL after ``timeout``), free its port and files.

        Returns the exit code (``None`` if it was already stopped); safe to call twice."""
        if not self._finalizer.alive:
            return None
        self._finalizer.detach()
        return self._res.release(timeout)

    def __enter__(self) -> EmbeddedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<EmbeddedServer {self.host}:{self.port} pid={self.pid} {state}>"


def embedded(port: int = 0, **config: Any) -> EmbeddedServer:
    """Start a fastredis server in a child process and return its handle once it serves.

    >>> with fastredis.embedded(maxmemory="10mb") as srv:
    ...     srv.client().set("k", "v")
    """
    return EmbeddedServer(port=port, **config)
