"""Master/replica replication, attached to a running server by ``attach``.

The executor reaches replication only through ``ServerContext.propagate_hook``
and ``ServerContext.extras["replication"]`` (a ``Replication`` object), so command
handlers never import this package.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .master import MasterRole
from .replica import ReplicaRole

if TYPE_CHECKING:
    from ..context import Client
    from ..server import Server


class Replication:
    """Both roles of one server plus the INFO/ROLE views of them."""

    def __init__(self, server: Server) -> None:
        from ..context import Client

        ctx = server.ctx
        self.ctx = ctx
        self.master = MasterRole(ctx)

        def make_client() -> Client:
            c = Client(ctx, fd=-1)
            return c

        self.replica = ReplicaRole(ctx, self.master, make_client)
        ctx.add_propagator(lambda: self.master.backlog is not None, self.master.propagate)
        ctx.extras["replication"] = self
        ctx.extras["min_replicas_ok"] = True
        prev_gone = ctx.extras.get("client_gone")

        def client_gone(c: Client) -> None:
            self.master.drop_replica(c)
            self.master.waiters = [w for w in self.master.waiters if w[0] is not c]
            if prev_gone is not None:
                prev_gone(c)

        ctx.extras["client_gone"] = client_gone

        def min_replicas_gate(c: Client) -> Any:
            if ctx.config["min-replicas-to-write"] and not ctx.is_replica_of_master:
                self.master.update_min_replicas()
                if not ctx.extras.get("min_replicas_ok", True):
                    from .._resp import ReplyError

                    return ReplyError("NOREPLICAS Not enough good replicas to write.")
            return None

        def min_replicas_changed(value: int) -> None:
            ctx.set_write_gate("min-replicas", min_replicas_gate if value else None)

        min_replicas_changed(ctx.config["min-replicas-to-write"])
        ctx.config.on_change("min-replicas-to-write", min_replicas_changed)
        server.cron_hooks.append(self.cron)
        server.startup_hooks.append(self.startup)
        ctx.config.on_change("repl-backlog-size", self._resize)
        ctx.config.on_change("replicaof", self._replicaof_changed)

    def _resize(self, size: int) -> None:
        if self.master.backlog is not None:
            self.master.backlog.resize(size)

    def _replicaof_changed(self, value: Any) -> None:
        if value is None:
            if self.replica.host is not None:
                self.replica.promote()
        else:
            self.replica.set_master(value[0], value[1])

    def startup(self) -> None:
        target = self.ctx.config["replicaof"]
        if target is not None:
            self.replica.set_master(target[0], target[1], at_startup=True)

    def cron(self) -> None:
        self.master.cron()
        self.replica.cron()

    # -- views -----------------------------------------------------------------------

    def role_reply(self) -> list[Any]:
        r = self.replica
        if r.host is not None:
            if r.link_status == "up":
                state = b"connected"
            elif r.sync_in_progress and r.link is not None and r.link.state in ("bulk", "transfer"):
                state = b"sync"
            elif r.link is not None:
                state = b"handshake" if r.link.state not in ("connecting",) else b"connecting"
            else:
                state = b"connect"
            return [b"slave", r.host.encode(), r.port, state, self.master.master_repl_offset if
                    r.link_status == "up" else -1]
        m = self.master
        return [b"master", m.master_repl_offset,
                [[x.ip.encode(), str(x.port).encode(), str(x.ack_offset).encode()]
                 for x in m.replicas if x.state == "online"]]

    def info_fields(self) -> list[tuple[str, Any]]:
        """The INFO replication section, field names as Redis 7.2."""
        m, r, cfg = self.master, self.replica, self.ctx.config
        now = time.time()
        out: list[tuple[str, Any]] = []
        if r.host is not None:
            out.append(("role", "slave"))
            out.append(("master_host", r.host))
            out.append(("master_port", r.port))
            out.append(("master_link_status", "up" if r.link_status == "up" else "down"))
            last_io = int(now - r.link.last_io) if r.link is not None and r.link_status == "up" else -1
            out.append(("master_last_io_seconds_ago", last_io))
            out.append(("master_sync_in_progress", 1 if r.sync_in_progress else 0))
            out.append(("slave_read_repl_offset", m.master_repl_offset))
            out.append(("slave_repl_offset", m.master_repl_offset))
            if r.link_status != "up":
                out.append(("master_link_down_since_seconds", int(now - r.down_since)))
            out.append(("slave_priority", cfg["replica-priority"]))
            out.append(("slave_read_only", 1 if cfg["replica-read-only"] else 0))
            out.append(("replica_announced", 1 if cfg["replica-announced"] else 0))
        else:
            out.append(("role", "master"))
        online = [x for x in m.replicas if x.state == "online"]
        out.append(("connected_slaves", len(m.replicas)))
        if cfg["min-replicas-to-write"]:
            good = sum(1 for x in online if now - x.ack_time <= cfg["min-replicas-max-lag"])
            out.append(("min_slaves_good_slaves", good))
        for i, x in enumerate(m.replicas):
            out.append((f"slave{i}", f"ip={x.ip},port={x.port},state={x.state},offset={x.ack_offset},"
                                     f"lag={int(now - x.ack_time)}"))
        out.append(("master_failover_state", "no-failover"))
        out.append(("master_replid", m.replid))
        out.append(("master_replid2", m.replid2))
        out.append(("master_repl_offset", m.master_repl_offset))
        out.append(("second_repl_offset", m.second_offset))
        b = m.backlog
        out.append(("repl_backlog_active", 1 if b is not None else 0))
        out.append(("repl_backlog_size", cfg["repl-backlog-size"]))
        out.append(("repl_backlog_first_byte_offset", b.first_offset if b is not None else 0))
        out.append(("repl_backlog_histlen", b.histlen if b is not None else 0))
        return out


def attach(server: Server) -> Replication:
    return Replication(server)
