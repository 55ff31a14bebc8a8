"""Full synchronization: the RDB a replica starts from, made in a forked child and sent without
stopping the event loop (Redis' startBgsaveForReplication, rdbSaveToSlavesSockets, sendBulkToSlave).

Why it is shaped so:

- The snapshot is the point-in-time state at the fork, written by a child (``persistence.fork``: no
  copy-on-write of the dataset), never by the event loop: at a million keys serializing takes
  seconds, and every client would wait for them.
- ``+FULLRESYNC <replid> <offset>`` is sent at the fork with the offset the snapshot holds; from then
  on the propagated stream for that replica waits in ``ReplicaInfo.pending`` and follows the payload,
  so nothing written while the snapshot is made is lost or applied twice.
- Diskless (``repl-diskless-sync yes`` and the replica said ``capa eof``): the child writes the RDB
  into a pipe, the parent relays it to every replica of that child as ``$EOF:<mark>`` ... ``<mark>``.
  Disk: a BGSAVE to ``dbfilename``, then the file is sent as ``$<size>``.  Either way at most
  ``HIGH_WATER`` bytes wait in a replica's socket buffer: a slow replica slows its own transfer (the
  pipe fills, the child waits), never the master's clients, and memory does not grow with the
  dataset.
- Replicas that ask while a child runs wait (state ``wait_bgsave``) and get the next one; with
  ``repl-diskless-sync-delay`` the first waits that long for others to share the child.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import TYPE_CHECKING, Any

from ..persistence.fork import child_reaped, fork_child

if TYPE_CHECKING:
    from ..context import Client
    from .master import MasterRole, ReplicaInfo

CHUNK = 1 << 20
HIGH_WATER = 8 << 20   # stop feeding a replica's socket above this many queued bytes
LOW_WATER = 2 << 20    # ... and go on once every replica of the transfer is below this
POLL = 0.005           # seconds between checks while a replica's socket drains


class _Job:
    """One snapshot child and the replicas it feeds."""

    def __init__(self, replicas: list[ReplicaInfo], diskless: bool) -> None:
        self.replicas = replicas
        self.diskless = diskless
        self.pid = 0
        self.fd = -1              # the pipe's read end (diskless)
        self.mark = b""
        self.eof = False          # the child closed the pipe
        self.file_ready = False   # disk: the BGSAVE ended well
        self.files: dict[int, Any] = {}  # disk: replica client id -> open dump file
        self.reading = False
        self.poll: asyncio.TimerHandle | None = None


class FullSync:
    """The full-sync transfers of one master."""

    def __init__(self, master: MasterRole) -> None:
        self.master = master
        self.ctx = master.ctx
        self.job: _Job | None = None
        self.last_newline = 0.0
        snap = self.ctx.extras.get("rdb")
        if snap is not None:
            snap.done_hooks.append(self._bgsave_done)

    # -- limits -----------------------------------------------------------------------

    def over_limit(self, r: ReplicaInfo) -> bool:
        """client-output-buffer-limit replica, on the stream held back while the RDB is sent."""
        hard, soft, secs = self.ctx.config["client-output-buffer-limit"].get("replica", (0, 0, 0))
        size = r.pending_size
        if hard and size >= hard:
            over = True
        elif soft and size >= soft:
            c: Any = r.client
            since = getattr(c, "obuf_soft_since", None)
            now = time.time()
            if since is None:
                c.obuf_soft_since = now
            over = since is not None and now - since >= secs
        else:
            over = False
        if over:
            self.ctx.stats.client_output_buffer_limit_disconnections += 1
            self.ctx.log("warning", "Client id=%d addr=%s scheduled to be closed ASAP for overcoming of output "
                         "buffer limits." % (r.client.id, r.client.addr))
        return over

    # -- starting -----------------------------------------------------------------------

    def start_if_ready(self) -> None:
        """Fork for the waiting replicas unless a child runs or the diskless delay is not over."""
        if self.job is not None:
            return
        m = self.master
        waiting = [r for r in m.replicas if r.state == "wait_bgsave"]
        if not waiting:
            return
        snap = self.ctx.extras.get("rdb")
        if snap is None or snap.has_child():
            return  # after the running child (cron tries again)
        cfg = self.ctx.config
        diskless = bool(cfg["repl-diskless-sync"]) and all(r.diskless for r in waiting)
        if diskless:
            delay = cfg["repl-diskless-sync-delay"]
            most = cfg["repl-diskless-sync-max-replicas"]
            idle = time.time() - min(r.wait_since for r in waiting)
            if delay and idle < delay and not (most and len(waiting) >= most):
                return
        self._start(waiting, diskless)

    def _start(self, replicas: list[ReplicaInfo], diskless: bool) -> None:
        ctx = self.ctx
        m = self.master
        snap = ctx.extras["rdb"]
        job = _Job(replicas, diskless)
        ctx.log("notice", "Starting BGSAVE for SYNC with target: %s" % ("replicas sockets" if diskless else "disk"))
        if diskless:
            rfd, wfd = os.pipe()

            def child() -> None:
                os.close(rfd)
                with os.fdopen(wfd, "wb", buffering=CHUNK) as f:
                    snap.write_rdb(f)

            t0 = time.time()
            try:
                pid = fork_child(child)
            except OSError as e:
                os.close(rfd)
                os.close(wfd)
                ctx.log("warning", "Can't save in background: fork: %s" % e.strerror)
                self._fail(replicas, "BGSAVE failed")
                return
            os.close(wfd)
            os.set_blocking(rfd, False)
            ctx.stats.total_forks += 1
            ctx.stats.latest_fork_usec = int((time.time() - t0) * 1_000_000)
            job.pid = pid
            job.fd = rfd
            job.mark = os.urandom(20).hex().encode()
            ctx.extras["repl_child_pid"] = pid
            ctx.log("notice", "Background RDB transfer started by pid %d" % pid)
        else:
            if not snap.bgsave():
                self._fail(replicas, "BGSAVE failed")
                return
            job.pid = snap.child_pid
        self.job = job
        # the snapshot holds the dataset as of now: the replicas continue the stream from here
        offset = m.master_repl_offset
        m.seldb = -1
        for r in replicas:
            r.state = "send_bulk"
            r.pending = []
            r.pending_size = 0
            r.ack_time = time.time()
            if not r.sync_only:
                r.client.write_raw(b"+FULLRESYNC %s %d\r\n" % (m.replid.encode(), offset))
            if diskless:
                r.client.write_raw(b"$EOF:" + job.mark + b"\r\n")
        if diskless:
            self._resume_reading()

    def _fail(self, replicas: list[ReplicaInfo], why: str) -> None:
        for r in replicas:
            self.ctx.log("warning", "SYNC failed. %s" % why)
            r.client.close()

    # -- diskless: relay the pipe -------------------------------------------------------

    def _live(self, job: _Job) -> list[ReplicaInfo]:
        return [r for r in job.replicas if not getattr(r.client, "killed", False)]

    def _resume_reading(self) -> None:
        job = self.job
        if job is None or job.eof or job.reading:
            return
        job.reading = True
        asyncio.get_event_loop().add_reader(job.fd, self._readable)

    def _pause_reading(self) -> None:
        job = self.job
        if job is None or not job.reading:
            return
        job.reading = False
        asyncio.get_event_loop().remove_reader(job.fd)

    def _queued(self, r: ReplicaInfo) -> int:
        fn = getattr(r.client, "output_buffer_len", None)
        return int(fn()) if callable(fn) else 0

    def _readable(self) -> None:
        job = self.job
        if job is None:
            return
        live = self._live(job)
        if any(self._queued(r) > HIGH_WATER for r in live):
            self._pause_reading()
            self._schedule(self._drained)
            return
        try:
            data = os.read(job.fd, CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            for r in live:
                r.client.write_raw(data)
            return
        # the child closed the pipe: the payload is complete once it exited well
        self._pause_reading()
        os.close(job.fd)
        job.fd = -1
        job.eof = True
        self.ctx.log("notice", "Diskless rdb transfer, done reading from pipe, %d replicas still up." % len(live))
        self._reap_socket_child()

    def _drained(self) -> None:
        job = self.job
        if job is None:
            return
        job.poll = None
        if all(self._queued(r) < LOW_WATER for r in self._live(job)):
            self._resume_reading()
        else:
            self._schedule(self._drained)

    def _schedule(self, fn: Any) -> None:
        job = self.job
        if job is not None and job.poll is None:
            job.poll = asyncio.get_event_loop().call_later(POLL, fn)

    def _reap_socket_child(self) -> None:
        job = self.job
        if job is None or not job.pid:
            return
        job.poll = None
        try:
            pid, status = os.waitpid(job.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = job.pid, 1 << 8
        if pid == 0:
            self._schedule(self._reap_socket_child)
            return
        child_reaped()
        self.ctx.extras["repl_child_pid"] = 0
        job.pid = 0
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if ok and job.eof:
            self.ctx.log("notice", "Background RDB transfer terminated with success")
            for r in self._live(job):
                r.client.write_raw(job.mark)
                r.wait_ack = True
                self._online(r)
        else:
            self.ctx.log("warning", "Background transfer error")
            self._fail(self._live(job), "Background transfer error")
        self.job = None
        self.start_if_ready()

    # -- disk: send the dump file -------------------------------------------------------

    def _bgsave_done(self, pid: int, ok: bool) -> None:
        job = self.job
        if job is None or job.diskless or job.pid != pid:
            return
        job.pid = 0
        if not ok:
            self._fail(self._live(job), "BGSAVE child returned an error")
            self.job = None
            return
        job.file_ready = True
        path = self.ctx.extras["rdb"].path()
        for r in self._live(job):
            try:
                f = open(path, "rb")  # noqa: SIM115 - closed when sent or when the replica goes
            except OSError as e:
                self.ctx.log("warning", "SYNC failed. Can't open/stat DB after BGSAVE: %s" % e.strerror)
                r.client.close()
                continue
            size = os.fstat(f.fileno()).st_size
            job.files[r.client.id] = f
            r.client.write_raw(b"$%d\r\n" % size)
        self._send_files()

    def _send_files(self) -> None:
        job = self.job
        if job is None:
            return
        job.poll = None
        for r in self._live(job):
            f = job.files.get(r.client.id)
            if f is None:
                continue
            while self._queued(r) < HIGH_WATER:
                data = f.read(CHUNK)
                if not data:
                    f.close()
                    del job.files[r.client.id]
                    self._online(r)
                    break
                r.client.write_raw(data)
        if job.files:
            self._schedule(self._send_files)
        else:
            self.job = None
            self.start_if_ready()

    # -- the end of a transfer ------------------------------------------------------------

    def _online(self, r: ReplicaInfo) -> None:
        """The payload is out: the stream held back since the snapshot follows (at once, or for a
        diskless payload at the replica's first ACK), then the live stream."""
        r.state = "online"
        r.ack_time = time.time()
        if not r.wait_ack:
            self.start_stream(r)
        self.ctx.log("notice", "Synchronization with replica %s succeeded" % r.client.addr)

    def start_stream(self, r: ReplicaInfo) -> None:
        r.wait_ack = False
        if r.pending:
            r.client.write_raw(b"".join(r.pending))
        r.pending = []
        r.pending_size = 0

    def replica_gone(self, c: Client) -> None:
        job = self.job
        if job is None:
            return
        job.replicas = [r for r in job.replicas if r.client is not c]
        f = job.files.pop(c.id, None)
        if f is not None:
            f.close()
        if job.diskless and not job.replicas and job.pid:
            self.ctx.log("warning", "Diskless rdb transfer, last replica dropped, killing fork child.")
            try:
                os.kill(job.pid, signal.SIGUSR1)
            except OSError:
                pass
            self._pause_reading()
            if job.fd >= 0:
                os.close(job.fd)
                job.fd = -1
            job.eof = False
            if job.poll is not None:
                job.poll.cancel()
                job.poll = None
            self._reap_socket_child()

    def cron(self) -> None:
        """Start waiting transfers; newlines keep replicas that wait for their RDB from timing out."""
        self.start_if_ready()
        now = time.time()
        if now - self.last_newline < 1:
            return
        self.last_newline = now
        job = self.job
        for r in self.master.replicas:
            if r.state == "wait_bgsave" or (
                    r.state == "send_bulk" and job is not None and not job.diskless and not job.file_ready):
                r.client.write_raw(b"\n")
