"""Append-only file, Redis 7 multi-part layout.

``<dir>/<appenddirname>/`` holds a manifest, one base file (an RDB preamble
``<name>.<seq>.base.rdb`` or plain commands ``.base.aof``) and incremental files
``<name>.<seq>.incr.aof``.  Writes are appended as the executor propagates them
(already rewritten by handlers: absolute expiries, no relative times), written
to the kernel at once and fsynced per ``appendfsync``.  BGREWRITEAOF forks a
child that writes a new base while the parent switches to a new incr file, so
no rewrite buffer is needed; the manifest is replaced atomically when the
child is done.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._resp import Parser, encode_command
from .fork import child_reaped, fork_child

if TYPE_CHECKING:
    from ..context import ServerContext
    from ..server import Server


class AofError(Exception):
    """A fatal AOF problem at load time (the server exits with code 1)."""

    def __init__(self, *messages: str) -> None:
        super().__init__(messages[-1] if messages else "")
        self.messages = list(messages)  # log lines, in order


MANIFEST_MAX_LINE = 1024


def _manifest_error(err: str, linenum: int = 0, line: str | None = None) -> AofError:
    """aofLoadManifestFromFile's loaderr: the banner, the offending line when there is one, the reason."""
    msgs = ["\n*** FATAL AOF MANIFEST FILE ERROR ***\n"]
    if line is not None:
        msgs.append("Reading the manifest file, at line %d\n" % linenum)
        msgs.append(">>> '%s'\n" % line)
    msgs.append(err + "\n")
    return AofError(*msgs)


def _fgets_lines(text: str) -> list[str]:
    """What fgets(buf, MANIFEST_MAX_LINE+1) returns, call after call: at most 1024 characters each."""
    out = []
    i, n = 0, len(text)
    while i < n:
        nl = text.find("\n", i, i + MANIFEST_MAX_LINE)
        j = nl + 1 if nl >= 0 else min(n, i + MANIFEST_MAX_LINE)
        out.append(text[i:j])
        i = j
    return out


class Manifest:
    """The parsed manifest: (filename, seq, type) lines; type b=base, h=history, i=incr."""

    def __init__(self) -> None:
        self.base: tuple[str, int] | None = None
        self.incr: list[tuple[str, int]] = []
        self.history: list[tuple[str, int]] = []

    @classmethod
    def parse(cls, text: str) -> Manifest:
        """aofLoadManifestFromFile, as strict as Redis: any defect raises AofError with its log lines."""
        from .._resp import split_args

        m = cls()
        maxseq = 0
        chunks = _fgets_lines(text)
        if not chunks:
            raise _manifest_error("Found an empty AOF manifest")
        for linenum, buf in enumerate(chunks, 1):
            if buf.startswith("#"):
                continue
            if "\n" not in buf:
                raise _manifest_error("The AOF manifest file contains too long line")
            line = buf.strip(" \t\r\n")
            if not line:
                raise _manifest_error("Invalid AOF manifest file format", linenum, line)
            argv = split_args(line.encode("utf-8", "surrogateescape"))
            if argv is None or len(argv) < 6 or len(argv) % 2:
                raise _manifest_error("Invalid AOF manifest file format", linenum, line)
            name: str | None = None
            seq = 0
            typ = ""
            for k in range(0, len(argv), 2):
                key = argv[k].lower()
                val = argv[k + 1].decode("utf-8", "surrogateescape")
                if key == b"file":
                    name = val
                    if "/" in name or "\\" in name:
                        raise _manifest_error("File can't be a path, just a filename", linenum, line)
                elif key == b"seq":
                    seq = _atoll(val)
                elif key == b"type":
                    typ = val[:1]
            if not name or not seq or not typ:
                raise _manifest_error("Invalid AOF manifest file format", linenum, line)
            if typ == "b":
                if m.base is not None:
                    raise _manifest_error("Found duplicate base file information", linenum, line)
                m.base = (name, seq)
            elif typ == "h":
                m.history.append((name, seq))
            elif typ == "i":
                if seq <= maxseq:
                    raise _manifest_error("Found a non-monotonic sequence number", linenum, line)
                m.incr.append((name, seq))
                maxseq = seq
            else:
                raise _manifest_error("Unknown AOF file type", linenum, line)
        return m

    def render(self) -> str:
        lines = []
        if self.base is not None:
            lines.append("file %s seq %d type b" % self.base)
        for entry in self.history:
            lines.append("file %s seq %d type h" % entry)
        for name, seq in self.incr:
            lines.append("file %s seq %d type i" % (name, seq))
        return "\n".join(lines) + "\n"


def _atoll(s: str) -> int:
    """C's atoll: leading blanks, a sign, digits; whatever follows is ignored (0 when none)."""
    t = s.lstrip(" \t\n\r\f\v")
    j = 1 if t[:1] in ("+", "-") else 0
    while j < len(t) and t[j].isdigit():
        j += 1
    try:
        return int(t[:j])
    except ValueError:
        return 0


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str, data: bytes) -> None:
    tmp = path + ".tmp-%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path) or ".")


class AppendOnlyFile:
    """The AOF of one server: feeding, fsync policy, rewrite, loading."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.ctx: ServerContext = server.ctx
        self.fd = -1
        self.seldb = -1
        self._enabled = False
        self.manifest = Manifest()
        self.child_pid = 0
        self.child_started = 0.0
        self.child_tmp = ""
        self.child_base_name = ""
        self.rewrite_scheduled = False
        self.last_fsync = time.time()
        self.last_rewrite_time = -1
        self.last_bgrewrite_ok = True
        self._last_write_ok = True
        self.rewrites = 0
        self.rewrites_failures = 0
        self.base_size = 0
        self.current_size = 0
        self.pending_fsync = False
        self.last_write_error = ""
        # commands fed since the last flush (Redis' aof_buf): written, and fsynced under
        # appendfsync always, once per batch of commands, before their replies go out
        self.buf: list[bytes] = []

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._enabled = value
        self.ctx.refresh_propagation()
        self._update_gate()

    @property
    def last_write_ok(self) -> bool:
        return self._last_write_ok

    @last_write_ok.setter
    def last_write_ok(self, value: bool) -> None:
        if value != self._last_write_ok:
            self._last_write_ok = value
            self._update_gate()

    def _update_gate(self) -> None:
        """MISCONF while the AOF is on and its last write failed."""
        self.ctx.set_write_gate("aof", None if (self._last_write_ok or not self._enabled) else self._gate)

    def _gate(self, c: Any) -> Any:
        from .._resp import ReplyError

        return ReplyError("MISCONF Errors writing to the AOF file: " + self.last_write_error)

    # -- paths ------------------------------------------------------------------

    @property
    def dirpath(self) -> str:
        return os.path.join(self.ctx.config["dir"], self.ctx.config["appenddirname"])

    @property
    def name(self) -> str:
        return self.ctx.config["appendfilename"]

    def _path(self, fname: str) -> str:
        return os.path.join(self.dirpath, fname)

    def _manifest_path(self) -> str:
        return self._path(self.name + ".manifest")

    # -- feeding ------------------------------------------------------------------

    def feed(self, dbid: int, argv: list[bytes]) -> None:
        if not self.enabled or self.fd < 0:
            return
        buf = self.buf
        if dbid >= 0 and dbid != self.seldb:
            buf.append(encode_command([b"SELECT", str(dbid).encode()]))
            self.seldb = dbid
        buf.append(encode_command(argv))
        ctx = self.ctx
        if not ctx.unflushed_writes:
            # flushed before the next reply is sent (the request loop), else when the loop
            # is done with its current callbacks (Redis' beforeSleep)
            ctx.unflushed_writes = True
            loop = self.server.loop
            if loop is not None:
                loop.call_soon(ctx.flush_writes)

    def flush(self) -> None:
        """Write what was fed since the last flush, then fsync under appendfsync always."""
        if self.buf:
            pause = self.ctx.extras.get("aof_flush_sleep")
            if pause:
                time.sleep(pause / 1_000_000)  # DEBUG AOF-FLUSH-SLEEP, as Redis' flushAppendOnlyFile
            data = b"".join(self.buf)
            self.buf.clear()
            if self.fd >= 0:
                self._write(data)

    def _write(self, data: bytes) -> None:
        try:
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
            self.current_size += len(data)
            if not self.last_write_ok:
                self.ctx.log("warning", "AOF write error looks solved, Redis can write again.")
            self.last_write_ok = True
        except OSError as e:
            self.last_write_ok = False
            self.last_write_error = e.strerror or str(e)
            self.ctx.log("warning", "Error writing to the AOF file: %s" % self.last_write_error)
            self.ctx.extras["aof_write_error"] = True
            return
        self.ctx.extras["aof_write_error"] = False
        policy = self.ctx.config["appendfsync"]
        if policy == "always":
            try:
                os.fsync(self.fd)
            except OSError as e:
                self.ctx.log("warning", "Can't persist AOF for fsync error when the AOF fsync policy is "
                             "'always': %s. Exiting..." % (e.strerror or e))
                os._exit(1)
        else:
            self.pending_fsync = True

    def cron(self) -> None:
        self.flush()
        if self.enabled and self.fd >= 0 and self.pending_fsync and \
                self.ctx.config["appendfsync"] == "everysec" and time.time() - self.last_fsync >= 1:
            try:
                os.fsync(self.fd)
            except OSError:
                pass
            self.pending_fsync = False
            self.last_fsync = time.time()
        self._check_child()
        if self.enabled and not self.child_pid:
            if self.rewrite_scheduled and not self._other_child():
                self.rewrite_scheduled = False
                self.start_rewrite()
            else:
                self._auto_rewrite()

    def _auto_rewrite(self) -> None:
        cfg = self.ctx.config
        perc = cfg["auto-aof-rewrite-percentage"]
        if not perc or self._other_child():
            return
        base = self.base_size or 1
        if self.current_size < cfg["auto-aof-rewrite-min-size"]:
            return
        growth = (self.current_size * 100 // base) - 100
        if growth >= perc:
            self.ctx.log("notice", "Starting automatic rewriting of AOF on %d%% growth" % growth)
            self.start_rewrite()

    def _other_child(self) -> bool:
        snap = self.ctx.extras.get("bgsave_in_progress")
        return bool(snap() if callable(snap) else snap)

    # -- start / stop -----------------------------------------------------------

    def start_on_boot(self) -> None:
        """appendonly yes at start-up: load what exists, then make sure a base and an incr exist."""
        os.makedirs(self.dirpath, exist_ok=True)
        mpath = self._manifest_path()
        if not os.path.exists(mpath):
            self._upgrade_old_style()
        if os.path.exists(mpath):
            self.load()
        else:
            self.enabled = True
            self._new_base_sync()
            return
        self.enabled = True
        self._open_incr(reuse=True)

    def _upgrade_old_style(self) -> None:
        """An appendonly.aof from before Redis 7 becomes the base of a new manifest."""
        old = os.path.join(self.ctx.config["dir"], self.name)
        if not os.path.exists(old):
            return
        with open(old, "rb") as f:
            head = f.read(5)
        base = "%s.1.base.%s" % (self.name, "rdb" if head == b"REDIS" else "aof")
        os.replace(old, self._path(base))
        m = Manifest()
        m.base = (base, 1)
        self.manifest = m
        write_atomic(self._manifest_path(), m.render().encode())
        self.ctx.log("notice", "Successfully migrated an old-style AOF into the AOF directory")

    def _next_seq(self, kind: str) -> int:
        m = self.manifest
        if kind == "b":
            return (m.base[1] if m.base else 0) + 1
        return (max((s for _, s in m.incr), default=0)) + 1

    def _open_incr(self, reuse: bool = False) -> None:
        m = self.manifest
        seq = 0
        if reuse and m.incr:
            name = m.incr[-1][0]
        else:
            seq = self._next_seq("i")
            name = "%s.%d.incr.aof" % (self.name, seq)
        self.flush()  # what was fed so far belongs to the file being closed
        if self.fd >= 0:
            os.close(self.fd)
        # the file exists before the manifest names it (a crash in between leaves no dangling entry)
        self.fd = os.open(self._path(name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if seq:
            m.incr.append((name, seq))
            write_atomic(self._manifest_path(), m.render().encode())
        self.seldb = -1

    def _new_base_sync(self) -> None:
        """Write a base of the current dataset in the foreground (enable at boot / CONFIG SET)."""
        seq = self._next_seq("b")
        base = "%s.%d.base.%s" % (self.name, seq, "rdb" if self.ctx.config["aof-use-rdb-preamble"] else "aof")
        data = self._dataset_bytes()
        write_atomic(self._path(base), data)
        old = self.manifest
        m = Manifest()
        m.base = (base, seq)
        m.history = old.history + ([old.base] if old.base else []) + list(old.incr)
        self.manifest = m
        seq_i = max((s for _, s in old.incr), default=0) + 1
        name = "%s.%d.incr.aof" % (self.name, seq_i)
        m.incr.append((name, seq_i))
        write_atomic(self._manifest_path(), m.render().encode())
        self.flush()  # already in the new base: goes to the incr file that becomes history
        if self.fd >= 0:
            os.close(self.fd)
        self.fd = os.open(self._path(name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.seldb = -1
        self.base_size = len(data)
        self.current_size = len(data)
        self._delete_history()

    def _dataset_bytes(self) -> bytes:
        import io

        buf = io.BytesIO()
        self._write_dataset(buf)
        return buf.getvalue()

    def _write_dataset(self, f: Any) -> None:
        """The new base, streamed to ``f``: an RDB (aof-use-rdb-preamble) or one command per key."""
        from . import rdb

        ctx = self.ctx
        if ctx.config["aof-use-rdb-preamble"]:
            aux = rdb.default_aux(aof_base=True)
            snap = ctx.extras.get("rdb")
            if snap is not None:  # functions, rdb-key-save-delay and the encodings, as a BGSAVE
                snap.write_rdb(f, aux)
            else:
                rdb.dump_rdb(f, ((db.id, db.data, db.expires) for db in ctx.dbs), aux=aux,
                             checksum=ctx.config["rdbchecksum"], opts=rdb.SaveOptions.from_config(ctx.config),
                             functions=ctx.function_codes())
            return
        for chunk in self._commands_for_dataset():
            f.write(chunk)

    def _commands_for_dataset(self) -> Iterator[bytes]:
        """A plain-command base: one command per key (RESTORE keeps every type exact)."""
        from . import rdb

        for code in self.ctx.function_codes():  # as rewriteFunctions: the libraries first
            yield encode_command([b"FUNCTION", b"LOAD", code])
        for db in self.ctx.dbs:
            if not db.data:
                continue
            yield encode_command([b"SELECT", str(db.id).encode()])
            for key, value in db.data.items():
                payload = rdb.dump_payload(value)
                args = [b"RESTORE", key, b"0", payload, b"REPLACE"]
                when = db.expires.get(key)
                if when is not None:
                    args = [b"RESTORE", key, str(when).encode(), payload, b"REPLACE", b"ABSTTL"]
                yield encode_command(args)

    def enable(self) -> None:
        """CONFIG SET appendonly yes."""
        if self.enabled:
            return
        os.makedirs(self.dirpath, exist_ok=True)
        mpath = self._manifest_path()
        if os.path.exists(mpath):
            with open(mpath) as f:
                self.manifest = Manifest.parse(f.read())
        self.enabled = True
        self._new_base_sync()
        self.ctx.log("notice", "Background append only file rewriting started")

    def disable(self) -> None:
        if not self.enabled:
            return
        self.flush_and_close()
        self.enabled = False

    def flush_and_close(self) -> None:
        self.flush()
        if self.fd >= 0:
            try:
                os.fsync(self.fd)
            except OSError:
                pass
            os.close(self.fd)
            self.fd = -1

    def _delete_history(self) -> None:
        m = self.manifest
        if not m.history:
            return
        for name, _ in m.history:
            try:
                os.unlink(self._path(name))
            except OSError:
                pass
        m.history = []
        write_atomic(self._manifest_path(), m.render().encode())

    # -- BGREWRITEAOF -------------------------------------------------------------

    def start_rewrite(self) -> bool:
        """Fork a child that writes a new base; switch the parent to a new incr file now."""
        if self.child_pid:
            return False
        if not self.enabled:
            os.makedirs(self.dirpath, exist_ok=True)
        seq = self._next_seq("b")
        base = "%s.%d.base.%s" % (self.name, seq, "rdb" if self.ctx.config["aof-use-rdb-preamble"] else "aof")
        tmp = self._path("temp-rewriteaof-bg-%d.aof" % os.getpid())
        # new writes go to a fresh incr file from this point on
        if self.enabled:
            self._open_incr()
        t0 = time.time()
        def child() -> None:
            with open(tmp, "wb") as f:
                self._write_dataset(f)
                f.flush()
                os.fsync(f.fileno())

        pid = fork_child(child)
        self.ctx.stats.total_forks += 1
        self.ctx.stats.latest_fork_usec = int((time.time() - t0) * 1_000_000)
        self.child_pid = pid
        self.child_started = time.time()
        self.child_tmp = tmp
        self.child_base_name = base
        self.child_base_seq = seq
        self.ctx.log("notice", "Background append only file rewriting started by pid %d" % pid)
        return True

    def _check_child(self) -> None:
        if not self.child_pid:
            return
        try:
            pid, status = os.waitpid(self.child_pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.child_pid, 1 << 8
        if pid == 0:
            return
        child_reaped()
        self.child_pid = 0
        self.last_rewrite_time = int(time.time() - self.child_started)
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if not ok:
            self.last_bgrewrite_ok = False
            self.rewrites_failures += 1
            self.ctx.log("warning", "Background AOF rewrite terminated with error")
            try:
                os.unlink(self.child_tmp)
            except OSError:
                pass
            return
        self.finish_rewrite()

    def finish_rewrite(self) -> None:
        """The child wrote the new base: install it, drop the incr files it covers."""
        m = self.manifest
        base_path = self._path(self.child_base_name)
        os.replace(self.child_tmp, base_path)
        self.base_size = os.path.getsize(base_path)
        history = ([m.base] if m.base else []) + list(m.incr[:-1]) if self.enabled else []
        new = Manifest()
        new.base = (self.child_base_name, self.child_base_seq)
        new.history = m.history + history
        new.incr = m.incr[-1:] if self.enabled else []
        self.manifest = new
        os.makedirs(self.dirpath, exist_ok=True)
        write_atomic(self._manifest_path(), new.render().encode())
        self._delete_history()
        self.current_size = self.base_size + (os.path.getsize(self._path(new.incr[0][0])) if new.incr else 0)
        self.rewrites += 1
        self.last_bgrewrite_ok = True
        self.rewrites_failures = 0
        self.ctx.log("notice", "Background AOF rewrite finished successfully")

    # -- loading ----------------------------------------------------------------

    def load(self) -> None:
        """Load base + incr files (AOF wins over RDB when enabled)."""
        from ..context import Client
        from ..executor import process_command
        from . import rdb

        ctx = self.ctx
        with open(self._manifest_path()) as f:
            self.manifest = Manifest.parse(f.read())
        m = self.manifest
        files: list[tuple[str, bool]] = []
        if m.base is not None:
            files.append((m.base[0], False))
        files.extend((name, True) for name, _ in m.incr)
        for name, _ in files:
            # getBaseAndIncrAppendOnlyFilesSize: a file the manifest names but the disk lacks is fatal
            try:
                os.stat(self._path(name))
            except OSError as err:
                raise AofError("Unable to obtain the AOF file %s length. stat: %s"
                               % (name, os.strerror(err.errno or 0))) from None
        for db in ctx.dbs:
            db.clear()
        client = Client(ctx)
        client.authenticated = True
        client.fd = -1
        client.acl_restricted = False  # like Redis' user-less master and AOF clients
        client.is_master = True  # replayed writes are never refused nor propagated
        t0 = time.time()
        total = 0
        prev_repl = ctx.extras.get("replication")
        m_role = prev_repl.master if prev_repl is not None else None
        if m_role is not None:
            m_role.applying_master_stream = True
        try:
            for idx, (name, is_incr) in enumerate(files):
                path = self._path(name)
                with open(path, "rb") as f:
                    data = f.read()
                last = idx == len(files) - 1
                start = 0
                if data[:5] == b"REDIS":
                    res = rdb.load(data, preamble=True, dbnum=len(ctx.dbs), zset_limits=rdb.zset_limits(ctx.config))
                    for dbid, d in res.data.items():
                        ctx.dbs[dbid].data.update(d)
                    for dbid, e in res.expires.items():
                        ctx.dbs[dbid].expires.update(e)
                    if res.functions:
                        restore = ctx.extras.get("functions_restore")
                        if callable(restore):
                            restore(list(res.functions))
                        else:
                            ctx.extras["rdb_functions"] = list(res.functions)
                    start = res.end_offset
                    ctx.log("notice", "Reading RDB base file on AOF loading...")
                total += self._replay(client, process_command, path, data, start, last)
                if not is_incr:
                    self.base_size = len(data)
                self.current_size += len(data)
        finally:
            if m_role is not None:
                m_role.applying_master_stream = False
        ctx.dirty = 0
        ctx.log("notice", "DB loaded from append only file: %.3f seconds" % (time.time() - t0))

    def _replay(self, client: Any, process_command: Any, path: str, data: bytes, start: int, last: bool) -> int:
        ctx = self.ctx
        parser = Parser()
        parser.max_query_len = 1 << 62
        view = data[start:]
        parser.feed(view)
        cmds = parser.parse()
        if parser.error is not None or (view and view[:1] not in (b"*",) and not cmds):
            raise AofError("Bad file format reading the append only file %s: make a backup of your AOF file, "
                           "then use ./redis-check-aof --fix <filename.manifest>" % os.path.basename(path))
        n = 0
        in_multi = False
        for argv in cmds:
            name = argv[0].lower()
            if name == b"multi":
                in_multi = True
            elif name == b"exec":
                in_multi = False
            process_command(client, argv)
            n += 1
        leftover = parser.buffered
        if leftover or in_multi:
            if not last or not ctx.config["aof-load-truncated"]:
                raise AofError("Unexpected end of file reading the append only file %s. You can: 1) Make a "
                               "backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. "
                               "2) Alternatively you can set the 'aof-load-truncated' configuration option to "
                               "yes and restart the server." % os.path.basename(path))
            good = len(data) - leftover
            if in_multi:
                # drop the incomplete transaction as Redis does: cut before its MULTI
                good = self._last_multi_offset(data, start)
            ctx.log("warning", "!!! Warning: short read while loading the AOF file %s!!!"
                    % os.path.basename(path))
            ctx.log("warning", "AOF %s loaded anyway because aof-load-truncated is enabled"
                    % os.path.basename(path))
            with open(path, "r+b") as f:
                f.truncate(good)
        return n

    @staticmethod
    def _last_multi_offset(data: bytes, start: int) -> int:
        marker = b"*1\r\n$5\r\nMULTI\r\n"
        i = data.rfind(marker, start)
        if i < 0:
            i = data.lower().rfind(marker.lower(), start)
        return i if i >= 0 else len(data)

    # -- INFO -----------------------------------------------------------------------

    def info_fields(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = [
            ("aof_enabled", 1 if self.enabled else 0),
            ("aof_rewrite_in_progress", 1 if self.child_pid else 0),
            ("aof_rewrite_scheduled", 1 if self.rewrite_scheduled else 0),
            ("aof_last_rewrite_time_sec", self.last_rewrite_time),
            ("aof_current_rewrite_time_sec", int(time.time() - self.child_started) if self.child_pid else -1),
            ("aof_last_bgrewrite_status", "ok" if self.last_bgrewrite_ok else "err"),
            ("aof_rewrites", self.rewrites),
            ("aof_rewrites_consecutive_failures", self.rewrites_failures),
            ("aof_last_write_status", "ok" if self.last_write_ok else "err"),
            ("aof_last_cow_size", 0),
            ("module_fork_in_progress", 0),
            ("module_fork_last_cow_size", 0),
        ]
        if self.enabled:
            out += [
                ("aof_current_size", self.current_size),
                ("aof_base_size", self.base_size),
                ("aof_pending_rewrite", 1 if self.rewrite_scheduled else 0),
                ("aof_buffer_length", sum(map(len, self.buf))),
                ("aof_pending_bio_fsync", 0),
                ("aof_delayed_fsync", 0),
            ]
        return out


def attach(server: Server) -> AppendOnlyFile:
    """Wire the AOF into propagation, the cron, start-up, shutdown and CONFIG SET appendonly."""
    aof = AppendOnlyFile(server)
    ctx = server.ctx
    ctx.extras["aof"] = aof
    ctx.add_propagator(lambda: aof.enabled, aof.feed)
    ctx.write_flushers.append(aof.flush)
    server.cron_hooks.append(aof.cron)

    def on_boot() -> None:
        if ctx.config["appendonly"]:
            try:
                ctx.extras["aof_loading"] = True
                # replayed commands see server.loading like in Redis: nothing expires, past
                # PXAT/EXPIREAT/RESTORE TTLs are kept (the executor lets this client through)
                ctx.loading = True
                ctx.state_changed()
                aof.start_on_boot()
            except AofError as e:
                for msg in e.messages:
                    ctx.log("warning", msg)
                os._exit(1)
            except Exception as e:  # a corrupt RDB preamble and the like
                ctx.log("warning", "Fatal error loading the AOF: %s" % (e,))
                os._exit(1)
            finally:
                ctx.extras["aof_loading"] = False
                ctx.loading = False
                ctx.state_changed()

    server.startup_hooks.insert(0, on_boot)

    def on_shutdown(opts: dict[str, Any]) -> bool:
        if aof.child_pid:
            try:
                os.kill(aof.child_pid, 9)
            except OSError:
                pass
        aof.flush_and_close()
        return True

    server.shutdown_hooks.append(on_shutdown)

    def on_appendonly(value: bool) -> None:
        if value:
            aof.enable()
        else:
            aof.disable()

    ctx.config.on_change("appendonly", on_appendonly)
    return aof
