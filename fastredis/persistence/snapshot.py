"""RDB snapshots in the running server: SAVE, BGSAVE (forked child), save points, shutdown save, start-up load.

Mirrors Redis' rdb.c/server.c bookkeeping: ``dirty`` (changes since the last
save), ``lastsave``, ``lastbgsave_status``, BGSAVE SCHEDULE, the MISCONF write
gate of ``stop-writes-on-bgsave-error``.  Files are written as ``temp-<pid>.rdb``
in the data dir, fsynced, then renamed over ``dbfilename`` (and the dir fsynced),
so a crash never leaves a half-written dump under the real name.

``attach(server)`` wires everything in and publishes the object as
``ctx.extras["rdb"]`` (commands and INFO use it from there).
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .._resp import ReplyError
from . import rdb
from .fork import child_reaped, fork_child, private_dirty_kb

if TYPE_CHECKING:
    from ..server import Server

BGSAVE_RETRY_DELAY = 5  # seconds between failed background save attempts (CONFIG_BGSAVE_RETRY_DELAY)

MISCONF = ReplyError(
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    "Commands that may modify the data set are disabled, because this instance is configured to report "
    "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the "
    "Redis logs for details about the RDB error.")


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Snapshotter:
    """The RDB persistence state of one server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.ctx = server.ctx
        self.config = server.ctx.config
        self.child_pid = 0
        self.child_started = 0.0
        self.dirty_before_bgsave = 0
        self.bgsave_scheduled = False
        self._last_bgsave_ok = True
        self.last_bgsave_time_sec = -1
        self.last_bgsave_try = 0
        self.saves = 0
        self.keys_loaded = 0
        self.keys_expired = 0
        self.loading_started = 0
        self.loading_total_bytes = 0
        # copy-on-write of the running child, sampled from /proc each cron tick (INFO current_cow_*)
        self.cow_size = 0
        self.cow_peak = 0
        self.cow_time = 0.0
        self.last_cow_size = 0
        # called with (pid, ok) when a BGSAVE child ends (a disk-target full sync waits on one)
        self.done_hooks: list[Any] = []

    # -- paths / options ------------------------------------------------------------

    def path(self) -> str:
        return os.path.join(self.config["dir"] or ".", self.config["dbfilename"])

    def _temp_path(self, pid: int) -> str:
        return os.path.join(self.config["dir"] or ".", "temp-%d.rdb" % pid)

    def _functions(self) -> Iterable[bytes]:
        return self.ctx.function_codes()

    def _aux(self) -> dict[bytes, bytes | int]:
        """Aux fields; the replication info only where Redis' rdbPopulateSaveInfo has one (a replica,
        or a master with a backlog), so a dump of a lone master does not make a later replica PSYNC."""
        repl = self.ctx.extras.get("replication")
        master = getattr(repl, "master", None)
        aux = rdb.default_aux(repl_id=getattr(master, "replid", None) if master is not None else None,
                              repl_offset=getattr(master, "master_repl_offset", 0) if master is not None else 0)
        if master is None or (master.backlog is None and not self.ctx.is_replica_of_master):
            for k in (b"repl-stream-db", b"repl-id", b"repl-offset"):
                aux.pop(k, None)
        return aux

    def has_child(self) -> bool:
        """Any fork running (ours, the AOF rewrite, replication's): Redis allows one at a time."""
        if self.child_pid or self.ctx.extras.get("repl_child_pid"):
            return True
        aof = self.ctx.extras.get("aof")
        return bool(getattr(aof, "child_pid", 0))

    # -- writing ------------------------------------------------------------------

    def write_rdb(self, f: Any, aux: dict[bytes, bytes | int] | None = None) -> None:
        """The whole dataset as one RDB image into the binary file ``f`` (rdbSaveRio)."""
        opts = rdb.SaveOptions.from_config(self.config)
        delay = self.config["rdb-key-save-delay"]
        w = rdb.RdbWriter(f, checksum=self.config["rdbchecksum"], opts=opts)
        w.header(self._aux() if aux is None else aux)
        w.functions(self._functions())
        # rdb-key-save-delay (microseconds per key) keeps a BGSAVE running in tests
        per_key = (lambda: time.sleep(delay / 1_000_000)) if delay > 0 else None
        for db in self.ctx.dbs:
            w.database(db.id, db.data, db.expires, per_key)
        w.finish()

    def write_file(self, filename: str, pid: int) -> None:
        """Write the whole dataset to ``temp-<pid>.rdb``, fsync, rename (rdbSave). Raises OSError."""
        tmp = self._temp_path(pid)
        try:
            f = open(tmp, "wb")  # noqa: SIM115
        except OSError as e:
            self.ctx.log("warning", "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s"
                         % (os.path.basename(tmp), os.getcwd(), e.strerror))
            raise
        try:
            with f:
                self.write_rdb(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filename)
        except OSError as e:
            self.ctx.log("warning", "Write error saving DB on disk: %s" % (e.strerror or e))
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        _fsync_dir(filename)

    def save(self) -> bool:
        """SAVE / shutdown / FLUSHALL: a synchronous save; True on success."""
        try:
            self.write_file(self.path(), os.getpid())
        except Exception as e:  # any failure is a failed save, never a crash
            if not isinstance(e, OSError):
                self.ctx.log("warning", "Error saving DB on disk: %r" % (e,))
            return False
        self.ctx.log("notice", "DB saved on disk")
        self.ctx.dirty = 0
        self.ctx.lastsave = int(time.time())
        self.last_bgsave_ok = True
        return True

    def bgsave(self) -> bool:
        """Fork a child that writes the dump (rdbSaveBackground); False when it cannot start."""
        if self.has_child():
            return False
        self.dirty_before_bgsave = self.ctx.dirty
        self.last_bgsave_try = int(time.time())
        self.saves += 1
        t0 = time.time()
        filename = self.path()
        def child() -> None:
            self.write_file(filename, os.getpid())
            self.ctx.log("notice", "DB saved on disk")

        try:
            pid = fork_child(child)
        except OSError as e:
            self.last_bgsave_ok = False
            self.ctx.log("warning", "Can't save in background: fork: %s" % e.strerror)
            return False
        self.ctx.stats.total_forks += 1
        self.ctx.stats.latest_fork_usec = int((time.time() - t0) * 1_000_000)
        self.child_pid = pid
        self.child_started = time.time()
        self.ctx.log("notice", "Background saving started by pid %d" % pid)
        return True

    def kill_child(self) -> None:
        """killRDBChild: stop a running BGSAVE and remove its temp file."""
        if not self.child_pid:
            return
        pid = self.child_pid
        try:
            os.kill(pid, signal.SIGUSR1)
            os.waitpid(pid, 0)
        except (OSError, ChildProcessError):
            pass
        child_reaped()
        try:
            os.unlink(self._temp_path(pid))
        except OSError:
            pass
        self.child_pid = 0
        self.last_bgsave_time_sec = int(time.time() - self.child_started)
        for hook in list(self.done_hooks):
            hook(pid, False)

    def _sample_cow(self) -> None:
        pid = self.child_pid or self.ctx.extras.get("repl_child_pid") or 0
        if pid:
            self.cow_size = private_dirty_kb(pid) * 1024
            self.cow_peak = max(self.cow_peak, self.cow_size)
            self.cow_time = time.time()

    def check_child(self) -> None:
        """Reap our BGSAVE child when it is done (backgroundSaveDoneHandlerDisk)."""
        if not self.child_pid:
            return
        try:
            pid, status = os.waitpid(self.child_pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.child_pid, 1 << 8
        if pid == 0:
            return
        child_reaped()
        child = self.child_pid
        self.child_pid = 0
        self.last_cow_size = self.cow_peak
        if self.cow_peak:
            self.ctx.log("notice", "Fork CoW for RDB: current %d MB, peak %d MB" % (
                self.cow_size >> 20, self.cow_peak >> 20))
        self.cow_size = self.cow_peak = 0
        self.cow_time = 0.0
        self.last_bgsave_time_sec = int(time.time() - self.child_started)
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if ok:
            self.ctx.log("notice", "Background saving terminated with success")
            self.ctx.dirty = max(0, self.ctx.dirty - self.dirty_before_bgsave)
            self.ctx.lastsave = int(time.time())
            self.last_bgsave_ok = True
        elif os.WIFEXITED(status):
            self.ctx.log("warning", "Background saving error")
            self.last_bgsave_ok = False
        else:
            sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
            self.ctx.log("warning", "Background saving terminated by signal %d" % sig)
            try:
                os.unlink(self._temp_path(child))
            except OSError:
                pass
            if sig != signal.SIGUSR1:
                self.last_bgsave_ok = False
        for hook in list(self.done_hooks):
            hook(child, ok)

    # -- hooks ----------------------------------------------------------------------

    def cron(self) -> None:
        """Save points and scheduled BGSAVEs, checked every server cron tick."""
        now = int(time.time())
        if self.has_child():
            self._sample_cow()
            self.check_child()
        else:
            retry_ok = now - self.last_bgsave_try > BGSAVE_RETRY_DELAY or self.last_bgsave_ok
            for secs, changes in self.config["save"]:
                if self.ctx.dirty >= changes and now - self.ctx.lastsave > secs and retry_ok:
                    self.ctx.log("notice", "%d changes in %d seconds. Saving..." % (changes, secs))
                    self.bgsave()
                    break
        if self.bgsave_scheduled and not self.has_child() and \
                (now - self.last_bgsave_try > BGSAVE_RETRY_DELAY or self.last_bgsave_ok):
            if self.bgsave():
                self.bgsave_scheduled = False

    def on_shutdown(self, opts: dict[str, Any]) -> bool:
        """prepareForShutdown's RDB part: kill a BGSAVE, save when save points are set (or SAVE)."""
        if self.child_pid:
            self.ctx.log("warning", "There is a child saving an .rdb. Killing it!")
            self.kill_child()
        if opts.get("nosave"):
            return True
        if self.config["save"] or opts.get("save"):
            self.ctx.log("notice", "Saving the final RDB snapshot before exiting.")
            if opts.get("async_save"):
                poll = self._save_in_child(bool(opts.get("force")))
                if poll is not None:
                    return poll  # type: ignore[return-value]
            if not self.save():
                if opts.get("force"):
                    self.ctx.log("warning", "Error trying to save the DB. Exit anyway.")
                    return True
                self.ctx.log("warning", "Error trying to save the DB, can't exit.")
                return False
        return True

    def _save_in_child(self, force: bool) -> Any:
        """The shutdown save in a forked child; a poll that answers None while it runs, then
        whether shutting down may go on (None when the fork fails: save in the foreground)."""
        filename = self.path()
        try:
            pid = fork_child(lambda: self.write_file(filename, os.getpid()))
        except OSError:
            return None
        self.ctx.stats.total_forks += 1

        def poll() -> bool | None:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 1 << 8
            if done == 0:
                return None
            child_reaped()
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                self.ctx.log("notice", "DB saved on disk")
                self.ctx.dirty = 0
                self.ctx.lastsave = int(time.time())
                self.last_bgsave_ok = True
                return True
            if force:
                self.ctx.log("warning", "Error trying to save the DB. Exit anyway.")
                return True
            self.ctx.log("warning", "Error trying to save the DB, can't exit.")
            return False

        return poll

    def after_flushall(self) -> None:
        """FLUSHALL with save points rewrites the dump as an empty one (flushAllDataAndResetRDB)."""
        if self.child_pid:
            self.kill_child()
        if self.config["save"]:
            self.save()
            self.ctx.dirty += 1

    @property
    def last_bgsave_ok(self) -> bool:
        return self._last_bgsave_ok

    @last_bgsave_ok.setter
    def last_bgsave_ok(self, value: bool) -> None:
        # the MISCONF check is installed only while the last background save failed
        self._last_bgsave_ok = value
        self.ctx.set_write_gate("rdb", None if value else self.write_gate)

    def write_gate(self, c: Any) -> ReplyError | None:
        """MISCONF: refuse writes while the last background save failed (stop-writes-on-bgsave-error)."""
        if self.last_bgsave_ok or not self.config["stop-writes-on-bgsave-error"] or not self.config["save"]:
            return None
        if self.ctx.is_replica_of_master:
            return None
        return MISCONF

    async def load_at_startup(self) -> None:
        """loadDataFromDisk (RDB side): read dbfilename unless the AOF owns loading.

        The file is parsed in a worker thread so the event loop keeps answering
        clients (with -LOADING) and logs progress for big files.
        """
        if self.config["appendonly"]:
            return
        path = self.path()
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return
        except OSError as e:
            self.ctx.log("warning", "Fatal error loading the DB: %s. Exiting." % e.strerror)
            os._exit(1)
        ctx = self.ctx
        t0 = time.time()
        ctx.loading = True
        ctx.state_changed()
        self.loading_started = int(t0)
        self.loading_total_bytes = len(data)
        self.loading_progress: dict[str, Any] = {}
        loop = asyncio.get_running_loop()
        ticker = loop.call_later(1.0, self._log_progress, loop)
        try:
            res = await loop.run_in_executor(None, functools.partial(
                rdb.load, data, dbnum=len(ctx.dbs), zset_limits=rdb.zset_limits(ctx.config),
                drop_expired=not ctx.is_replica_of_master, verify_checksum=self.config["rdbchecksum"] and not self.ctx.extras.get("skip_checksum_validation"),
                progress=self.loading_progress))
        except rdb.RdbError as e:
            for line in e.lines:
                ctx.log("warning", line)
            if len(e.lines) == 1 and e.lines[0].startswith(("Wrong signature", "Can't handle")):
                ctx.log("warning", "Fatal error loading the DB: Invalid argument. Exiting.")
            else:
                ctx.log("warning", "Terminating server after rdb file reading failure.")
            os._exit(1)
        finally:
            ticker.cancel()
        for level, line in res.log:
            ctx.log(level, line)
        install(ctx, res)
        replid, offset = res.aux.get(b"repl-id"), res.aux.get(b"repl-offset")
        if replid and offset is not None and len(replid) == 40:
            try:
                ctx.extras["rdb_repl_info"] = (replid.decode("ascii"), int(offset))
            except (UnicodeDecodeError, ValueError):
                pass
        ctx.loading = False
        ctx.state_changed()
        self.loading_progress = {}
        self.keys_loaded = res.keys_loaded
        self.keys_expired = res.keys_expired
        ctx.log("notice", "DB loaded from disk: %.3f seconds" % (time.time() - t0))

    def loaded_bytes(self) -> int:
        reader = getattr(self, "loading_progress", {}).get("reader")
        return int(reader.pos) if reader is not None else 0

    def _log_progress(self, loop: asyncio.AbstractEventLoop) -> None:
        """While a big file loads: a log line a second with how far it got."""
        if not self.ctx.loading:
            return
        total = max(1, self.loading_total_bytes)
        done = self.loaded_bytes()
        self.ctx.log("notice", "Loading RDB: %d of %d bytes (%.2f%%)" % (done, total, done * 100.0 / total))
        self._ticker = loop.call_later(1.0, self._log_progress, loop)

    def debug_reload(self, options: list[str]) -> bool:
        """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, flush, load the dump back."""
        if "nosave" not in options and not self.save():
            return False
        ctx = self.ctx
        try:
            with open(self.path(), "rb") as f:
                data = f.read()
            res = rdb.load(data, dbnum=len(ctx.dbs), zset_limits=rdb.zset_limits(ctx.config),
                           drop_expired=not ctx.is_replica_of_master,
                           verify_checksum=self.config["rdbchecksum"] and not self.ctx.extras.get("skip_checksum_validation"))
        except (OSError, rdb.RdbError) as e:
            for line in getattr(e, "lines", [str(e)]):
                ctx.log("warning", line)
            return False
        if "noflush" not in options:
            install(ctx, res)
            return True
        merge = "merge" in options
        for dbid, data_db in res.data.items():
            db = ctx.dbs[dbid]
            if not merge and any(k in db.data for k in data_db):
                ctx.log("warning", "RDB has duplicated key in DB %d" % dbid)
                return False
        for dbid, data_db in res.data.items():
            db = ctx.dbs[dbid]
            exp = res.expires.get(dbid, {})
            for k, v in data_db.items():
                db.data[k] = v
                if k in exp:
                    db.expires[k] = exp[k]
                else:
                    db.expires.pop(k, None)
        return True

    # -- INFO ---------------------------------------------------------------------------

    def info_fields(self) -> list[tuple[str, Any]]:
        """INFO persistence, from ``loading`` to ``rdb_last_load_keys_loaded`` (AOF fields follow)."""
        ctx = self.ctx
        out: list[tuple[str, Any]] = [
            ("loading", 1 if ctx.loading else 0),
            ("async_loading", 1 if ctx.extras.get("async_loading") else 0),
            ("current_cow_peak", self.cow_peak if self.has_child() else 0),
            ("current_cow_size", self.cow_size if self.has_child() else 0),
            ("current_cow_size_age", int(time.time() - self.cow_time) if self.has_child() and self.cow_time else 0),
            ("current_fork_perc", "0.00"),
            ("current_save_keys_processed", 0),
            ("current_save_keys_total", 0),
            ("rdb_changes_since_last_save", ctx.dirty),
            ("rdb_bgsave_in_progress", 1 if self.child_pid or ctx.extras.get("repl_child_pid") else 0),
            ("rdb_last_save_time", ctx.lastsave),
            ("rdb_last_bgsave_status", "ok" if self.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_bgsave_time_sec),
            ("rdb_current_bgsave_time_sec", int(time.time() - self.child_started) if self.child_pid else -1),
            ("rdb_saves", self.saves),
            ("rdb_last_cow_size", self.last_cow_size),
            ("rdb_last_load_keys_expired", self.keys_expired),
            ("rdb_last_load_keys_loaded", self.keys_loaded),
        ]
        if ctx.loading:
            out[1:1] = [
                ("loading_start_time", self.loading_started),
                ("loading_total_bytes", self.loading_total_bytes),
                ("loading_rdb_used_mem", 0),
                ("loading_loaded_bytes", self.loaded_bytes()),
                ("loading_loaded_perc", "%.2f" % (self.loaded_bytes() * 100.0 / max(1, self.loading_total_bytes))),
                ("loading_eta_seconds", 1),
            ]
        return out


def install(ctx: Any, res: rdb.LoadResult) -> None:
    """Swap a fully parsed RDB into the keyspace (the old contents go) and hand over functions."""
    for db in ctx.dbs:
        db.clear()
    for dbid, data in res.data.items():
        db = ctx.dbs[dbid]
        db.data = data
        db.expires = res.expires.get(dbid, {})
    ctx.state_changed()
    loader = ctx.extras.get("functions_restore")
    if callable(loader):
        loader(list(res.functions))  # the loaded libraries replace the old ones, none included
    elif res.functions:
        ctx.extras["rdb_functions"] = list(res.functions)


def attach(server: Server) -> Snapshotter:
    """Wire RDB persistence into the server: cron, shutdown, start-up, FLUSHALL, MISCONF, INFO."""
    snap = Snapshotter(server)
    ctx = server.ctx
    ctx.extras["rdb"] = snap
    ctx.extras["bgsave_in_progress"] = lambda: bool(snap.child_pid)
    ctx.extras["after_flushall"] = snap.after_flushall
    ctx.extras["debug_reload"] = snap.debug_reload
    server.cron_hooks.append(snap.cron)
    server.shutdown_hooks.insert(0, snap.on_shutdown)
    server.startup_hooks.append(snap.load_at_startup)
    return snap
