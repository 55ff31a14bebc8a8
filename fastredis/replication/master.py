"""Master side of replication: replica registry, full and partial resync, propagation.

Every write the executor propagates is encoded once, appended to the backlog
and written to each online replica.  PSYNC is answered with ``+CONTINUE`` when
the requested offset is still in the backlog, otherwise with ``+FULLRESYNC``
and an RDB v11 snapshot (disk-style ``$<len>`` or diskless ``$EOF:<mark>``).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from .._resp import encode_command
from .backlog import Backlog
from .fullsync import FullSync

if TYPE_CHECKING:
    from ..context import Client, ServerContext


def new_replid() -> str:
    return os.urandom(20).hex()


class ReplicaInfo:
    """A connected replica as the master sees it."""

    __slots__ = ("client", "state", "ack_offset", "ack_time", "port", "ip", "capa", "since", "pending",
                 "pending_size", "diskless", "sync_only", "wait_since", "wait_ack")

    def __init__(self, client: Client) -> None:
        self.client = client
        # wait_bgsave (no snapshot child for it yet) -> send_bulk (its RDB is being produced and sent;
        # the stream since the snapshot's offset waits in ``pending``) -> online
        self.state = "wait_bgsave"
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.diskless = False
        self.sync_only = False
        self.wait_since = time.time()
        # after a diskless payload the stream starts at the replica's first REPLCONF ACK (as Redis'
        # repl_start_cmd_stream_on_ack): the replica cannot tell stream bytes from payload bytes
        # that arrive behind the EOF mark in one read
        self.wait_ack = False
        self.ack_offset = 0
        self.ack_time = time.time()
        self.port = 0
        self.ip = client.addr.rsplit(":", 1)[0]
        self.capa: set[bytes] = set()
        self.since = time.time()


class MasterRole:
    """Replication state every server has (a replica also serves sub-replicas)."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.replid = new_replid()
        self.replid2 = "0" * 40
        self.second_offset = -1
        self.master_repl_offset = 0
        self._backlog: Backlog | None = None
        self.replicas: list[ReplicaInfo] = []
        self.seldb = -1
        self.applying_master_stream = False
        self.last_ping = time.time()
        self.no_replicas_since = time.time()
        self.waiters: list[tuple[Client, Any, int, int]] = []  # (client, waiter, offset, numreplicas)
        self.sync = FullSync(self)
        self.pending_caps: dict[int, dict[str, Any]] = {}  # client id -> REPLCONF info before PSYNC

    # -- the stream ---------------------------------------------------------------

    @property
    def backlog(self) -> Backlog | None:
        return self._backlog

    @backlog.setter
    def backlog(self, value: Backlog | None) -> None:
        # writes are propagated only while a backlog exists (feedReplicationBuffer)
        self._backlog = value
        self.ctx.refresh_propagation()

    def create_backlog(self) -> None:
        if self.backlog is None:
            self.backlog = Backlog(self.ctx.config["repl-backlog-size"], self.master_repl_offset)

    def propagate(self, dbid: int, argv: list[bytes]) -> None:
        """The executor's propagate hook: SELECT when the db changes, then the command."""
        if self.applying_master_stream or self.backlog is None:
            return
        if dbid >= 0 and dbid != self.seldb:
            self.feed(encode_command([b"SELECT", str(dbid).encode()]))
            self.seldb = dbid
        self.feed(encode_command(argv))

    def feed(self, data: bytes) -> None:
        """Append raw stream bytes to the backlog and send them to online replicas."""
        if self.backlog is None:
            return
        self.backlog.append(data)
        self.master_repl_offset += len(data)
        for r in self.replicas:
            if r.state == "online" and not r.wait_ack:
                r.client.write_raw(data)
            elif r.state == "send_bulk" or r.wait_ack:
                r.pending.append(data)
                r.pending_size += len(data)
                if self.sync.over_limit(r):
                    r.client.close()

    # -- replica handshake ----------------------------------------------------------

    def replconf(self, c: Client, argv: list[bytes]) -> Any:
        """REPLCONF options from a (future) replica; ACK carries no reply."""
        from .._resp import OK, Raw, ReplyError

        if len(argv) % 2 == 0:
            raise ReplyError("ERR syntax error")
        info = self.pending_caps.setdefault(c.id, {"capa": set(), "port": 0, "ip": None})
        r = self._replica_of(c)
        for i in range(1, len(argv), 2):
            opt, val = argv[i].lower(), argv[i + 1]
            if opt == b"listening-port":
                try:
                    info["port"] = int(val)
                except ValueError:
                    raise ReplyError("ERR value is not an integer or out of range") from None
                if r is not None:
                    r.port = info["port"]
            elif opt == b"ip-address":
                info["ip"] = val.decode("utf-8", "replace")
            elif opt == b"capa":
                info["capa"].add(val.lower())
            elif opt == b"ack":
                if r is not None:
                    try:
                        off = int(val)
                    except ValueError:
                        return Raw(b"")
                    if off > r.ack_offset:
                        r.ack_offset = off
                    r.ack_time = time.time()
                    if r.wait_ack:
                        self.sync.start_stream(r)
                    self._check_waiters()
                return Raw(b"")
            elif opt == b"getack":
                return Raw(b"")
            elif opt in (b"rdb-only", b"rdb-filter-only"):
                pass
            else:
                raise ReplyError("ERR Unrecognized REPLCONF option: " + argv[i].decode("utf-8", "replace"))
        return OK

    def _replica_of(self, c: Client) -> ReplicaInfo | None:
        for r in self.replicas:
            if r.client is c:
                return r
        return None

    def psync(self, c: Client, replid: bytes, offset_raw: bytes, sync_only: bool = False) -> Any:
        """PSYNC/SYNC: continue from the backlog or send a full snapshot."""
        from .._resp import Raw, ReplyError

        ctx = self.ctx
        if c.is_replica:
            return Raw(b"")
        if ctx.is_replica_of_master and not ctx.extras.get("master_link_up"):
            raise ReplyError("NOMASTERLINK Can't SYNC while not connected with my master")
        info = self.pending_caps.pop(c.id, {"capa": set(), "port": 0, "ip": None})
        r = ReplicaInfo(c)
        r.port = info["port"]
        if info["ip"]:
            r.ip = info["ip"]
        r.capa = info["capa"]
        c.is_replica = True
        c.flags = "S"
        if not sync_only:
            try:
                offset = int(offset_raw)
            except ValueError:
                offset = -1
            rid = replid.decode("ascii", "replace")
            if self._can_continue(rid, offset):
                assert self.backlog is not None
                self.replicas.append(r)
                r.state = "online"
                r.ack_time = time.time()
                if b"psync2" in r.capa:
                    c.write_raw(b"+CONTINUE %s\r\n" % self.replid.encode())
                else:
                    c.write_raw(b"+CONTINUE\r\n")
                c.write_raw(self.backlog.since(offset))
                ctx.stats.sync_partial_ok += 1
                ctx.log("notice", "Partial resynchronization request from %s accepted. Sending %d bytes of "
                        "backlog starting from offset %d." % (c.addr, self.master_repl_offset - offset + 1, offset))
                c.reply_mode = 1
                return Raw(b"")
            if rid != "?":
                ctx.stats.sync_partial_err += 1
        self.full_resync(r, sync_only)
        return Raw(b"")

    def _can_continue(self, rid: str, offset: int) -> bool:
        if self.backlog is None or offset < 0:
            return False
        if rid != self.replid and not (rid == self.replid2 and offset <= self.second_offset):
            return False
        return self.backlog.can_serve(offset)

    def full_resync(self, r: ReplicaInfo, sync_only: bool = False) -> None:
        """Queue the replica for a snapshot (replicationSetupSlaveForFullResync happens at the fork)."""
        ctx = self.ctx
        c = r.client
        ctx.stats.sync_full += 1
        if self.backlog is None:
            if not ctx.is_replica_of_master:
                self.replid = new_replid()
                self.replid2 = "0" * 40
                self.second_offset = -1
            self.create_backlog()
        r.sync_only = sync_only
        r.diskless = b"eof" in r.capa and bool(ctx.config["repl-diskless-sync"]) and not sync_only
        r.state = "wait_bgsave"
        r.wait_since = time.time()
        c.reply_mode = 1  # nothing but the payload and the stream goes to a replica from here on
        self.replicas.append(r)
        ctx.log("notice", "Replica %s asks for synchronization" % c.addr)
        self.sync.start_if_ready()

    def drop_replica(self, c: Client) -> None:
        before = len(self.replicas)
        self.replicas = [r for r in self.replicas if r.client is not c]
        self.sync.replica_gone(c)
        self.pending_caps.pop(c.id, None)
        if len(self.replicas) != before:
            self.ctx.log("notice", "Connection with replica %s lost." % c.addr)
            if not self.replicas:
                self.no_replicas_since = time.time()

    # -- WAIT -------------------------------------------------------------------------

    def acked(self, offset: int) -> int:
        return sum(1 for r in self.replicas if r.state == "online" and r.ack_offset >= offset)

    def wait(self, c: Client, numreplicas: int, timeout_ms: int) -> Any:
        offset = self.master_repl_offset
        n = self.acked(offset)
        if n >= numreplicas or c.in_exec:
            return n
        self.request_acks()
        blocking = self.ctx.blocking

        def on_timeout() -> int:
            self.waiters = [w for w in self.waiters if w[0] is not c]
            return self.acked(offset)

        w = blocking.block(c, [], timeout_ms, lambda cl: None, on_timeout)
        self.waiters.append((c, c.blocked, offset, numreplicas))
        return w

    def request_acks(self) -> None:
        if self.replicas:
            self.feed(encode_command([b"REPLCONF", b"GETACK", b"*"]))

    def _check_waiters(self) -> None:
        if not self.waiters:
            return
        keep = []
        for c, waiter, offset, num in self.waiters:
            if c.blocked is not waiter:
                continue
            n = self.acked(offset)
            if n >= num:
                self.ctx.blocking.finish(waiter, n)
            else:
                keep.append((c, waiter, offset, num))
        self.waiters = keep

    # -- cron ---------------------------------------------------------------------------

    def cron(self) -> None:
        ctx = self.ctx
        now = time.time()
        cfg = ctx.config
        if self.replicas and now - self.last_ping >= cfg["repl-ping-replica-period"] and \
                not ctx.is_replica_of_master:
            self.last_ping = now
            self.feed(encode_command([b"PING"]))
        self.sync.cron()
        timeout = cfg["repl-timeout"]
        for r in list(self.replicas):
            if r.state == "online" and now - r.ack_time > timeout:
                ctx.log("warning", "Disconnecting timedout replica (streaming sync): %s" % r.client.addr)
                r.client.close()
        # backlog TTL: free it when no replicas were attached for a while (masters only)
        ttl = cfg["repl-backlog-ttl"]
        if (self.backlog is not None and not self.replicas and ttl and not ctx.is_replica_of_master
                and now - self.no_replicas_since > ttl):
            self.backlog = None
        self.update_min_replicas()

    def update_min_replicas(self) -> None:
        ctx = self.ctx
        need = ctx.config["min-replicas-to-write"]
        if not need:
            ctx.extras["min_replicas_ok"] = True
            return
        lag = ctx.config["min-replicas-max-lag"]
        now = time.time()
        good = sum(1 for r in self.replicas if r.state == "online" and now - r.ack_time <= lag)
        ctx.extras["min_replicas_ok"] = good >= need
