"""Every configuration parameter: name, type, default, validation, CONFIG GET/SET/REWRITE.

Names, defaults and value syntax follow Redis 7.2's ``config.c`` so that redis.conf
files, ``--name value`` flags and ``CONFIG GET`` answers are interchangeable.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .glob import stringmatch


class ConfigError(Exception):
    """A bad name or value; the text is what Redis says after ``ERR``/in the log."""


class OpenError(ConfigError):
    """A config file (or an ``include``) can't be read: logged, not a FATAL CONFIG block."""


class SetError(Exception):
    """CONFIG SET refused: the argument it is about and Redis' reason (None: no reason given)."""

    def __init__(self, name: str, reason: str | None, unknown: bool = False) -> None:
        super().__init__(name, reason)
        self.name = name
        self.reason = reason
        self.unknown = unknown

    def reply_text(self) -> str:
        if self.unknown:
            return f"ERR Unknown option or number of arguments for CONFIG SET - '{self.name}'"
        if self.reason is None:
            return f"ERR CONFIG SET failed (possibly related to argument '{self.name}')"
        return f"ERR CONFIG SET failed (possibly related to argument '{self.name}') - {self.reason}"


MEMORY_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000 * 1000, "mb": 1024 * 1024,
    "g": 1000 * 1000 * 1000, "gb": 1024 * 1024 * 1024,
}


def parse_memory(text: str) -> int:
    """Parse ``100mb``/``1gb``/``4096`` like Redis' memtoull."""
    t = text.strip().lower()
    if not t:
        return 0  # memtoull("") is 0
    i = len(t)
    while i > 0 and t[i - 1].isalpha():
        i -= 1
    num, unit = t[:i], t[i:]
    if unit not in MEMORY_UNITS or not num:
        raise ConfigError("argument must be a memory value")
    try:
        if num.startswith("+"):
            raise ValueError
        value = int(num)
    except ValueError:
        try:
            value = int(float(num))
        except ValueError:
            raise ConfigError("argument must be a memory value") from None
    return value * MEMORY_UNITS[unit]


@dataclass
class Param:
    """One parameter's declaration."""

    name: str
    kind: str  # bool, int, memory, string, enum, special
    default: Any
    alias: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    multi_enum: bool = False  # enum that takes several words (e.g. enable-debug-command? no)
    immutable: bool = False
    protected: bool = False  # CONFIG SET needs enable-protected-configs (PROTECTED_CONFIG)
    hidden: bool = False  # not listed by CONFIG GET globs (debugging knobs), like Redis' HIDDEN_CONFIG
    sensitive: bool = False
    parse: Callable[[str], Any] | None = None
    render: Callable[[Any], str] | None = None
    validate: Callable[[Any], None] | None = None


def _bool(text: str) -> bool:
    t = text.lower()
    if t == "yes":
        return True
    if t == "no":
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


def _parse_save(text: str) -> list[tuple[int, int]]:
    words = text.split()
    if not words or (len(words) == 1 and words[0] == ""):
        return []
    if len(words) % 2:
        raise ConfigError("Invalid save parameters")
    points = []
    for i in range(0, len(words), 2):
        try:
            secs, changes = int(words[i]), int(words[i + 1])
        except ValueError:
            raise ConfigError("Invalid save parameters") from None
        if secs < 1 or changes < 0:
            raise ConfigError("Invalid save parameters")
        points.append((secs, changes))
    return points


def _render_save(points: list[tuple[int, int]]) -> str:
    return " ".join(f"{s} {c}" for s, c in points)


def _parse_obuf(text: str) -> dict[str, tuple[int, int, int]]:
    words = text.split()
    if len(words) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    out = {}
    for i in range(0, len(words), 4):
        cls = words[i].lower()
        if cls == "slave":
            cls = "replica"
        if cls not in ("normal", "replica", "pubsub"):
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        try:
            hard, soft, secs = parse_memory(words[i + 1]), parse_memory(words[i + 2]), int(words[i + 3])
        except (ConfigError, ValueError):
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.") from None
        out[cls] = (hard, soft, secs)
    return out


def _render_obuf(v: dict[str, tuple[int, int, int]]) -> str:
    parts = []
    for cls in ("normal", "slave", "pubsub"):
        hard, soft, secs = v.get("replica" if cls == "slave" else cls, (0, 0, 0))
        parts.append(f"{cls} {hard} {soft} {secs}")
    return " ".join(parts)


def _parse_words(text: str) -> list[str]:
    return text.split()


def _render_words(v: list[str]) -> str:
    return " ".join(v)


def _parse_replicaof(text: str) -> tuple[str, int] | None:
    words = text.split()
    if len(words) == 2 and words[0].lower() == "no" and words[1].lower() == "one":
        return None
    if not words:
        return None
    if len(words) != 2:
        raise ConfigError("wrong number of arguments")
    try:
        port = int(words[1])
    except ValueError:
        raise ConfigError("Invalid master port") from None
    if not 0 <= port <= 65535:
        raise ConfigError("Invalid master port")
    return (words[0], port)


def _render_replicaof(v: tuple[str, int] | None) -> str:
    return "" if v is None else f"{v[0]} {v[1]}"


def _parse_notify(text: str) -> str:
    from .pubsub import flags_to_string, parse_flags

    flags = parse_flags(text)
    if flags is None:
        raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    return flags_to_string(flags)


def _parse_dir(text: str) -> str:
    return text


_TITLE_VARS = ("{title}", "{listen-addr}", "{server-mode}", "{port}", "{tls-port}", "{unixsocket}", "{config-file}")


def _check_title_template(text: str) -> None:
    """isValidProcTitleTemplate: known {variables} only and a non-empty expansion."""
    import re

    out = re.sub(r"\{[^{}]*\}", lambda m: "x" if m.group(0) in _TITLE_VARS[1:] else (
        "" if m.group(0) == "{title}" else "\0"), text)
    if "\0" in out or "{" in out or "}" in out or not out:
        raise ConfigError("template format is invalid or contains unknown variables")


def _check_dbfilename(text: str) -> None:
    if "/" in text:
        raise ConfigError("dbfilename can't be a path, just a filename")


def _check_hostname(text: str) -> None:
    if any(not (ch.isascii() and (ch.isalnum() or ch in "-.")) for ch in text):
        raise ConfigError("Hostnames may only contain alphanumeric characters, hyphens or dots")


def _check_activedefrag(value: bool) -> None:
    if value:
        raise ConfigError("Active defragmentation cannot be enabled: it requires a Redis server compiled with a "
                          "modified Jemalloc like the one shipped by default with the Redis source distribution")


def _check_tls(value: bool) -> None:
    if value:
        raise ConfigError("Unable to update TLS configuration. Check server logs.")


def _check_oom_values(text: str) -> None:
    words = text.split()
    if len(words) != 3:
        raise ConfigError("wrong number of arguments")
    for w in words:
        try:
            v = int(w)
        except ValueError:
            raise ConfigError("Invalid oom-score-adj-values") from None
        if not -2000 <= v <= 2000:
            raise ConfigError("Invalid oom-score-adj-values")


SHUTDOWN_FLAGS = ("default", "save", "nosave", "now", "force")


def _check_shutdown_flags(text: str) -> None:
    words = text.lower().split()
    if not words or any(w not in SHUTDOWN_FLAGS for w in words):
        raise ConfigError("argument(s) must be one of the following: " + ", ".join(SHUTDOWN_FLAGS))


def _parse_percentiles(text: str) -> list[float]:
    out = []
    for w in text.split():
        try:
            v = float(w)
        except ValueError:
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters") from None
        if not 0.0 <= v <= 100.0:
            raise ConfigError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
        out.append(v)
    return out


def _render_percentiles(v: list[float]) -> str:
    return " ".join(("%f" % x).rstrip("0").rstrip(".") for x in v)


def _p(name: str, kind: str, default: Any, **kw: Any) -> Param:
    return Param(name, kind, default, **kw)


INT64_MAX = 2**63 - 1
LONG_MAX = INT64_MAX

PARAMS: list[Param] = [
    # networking
    _p("bind", "special", ["127.0.0.1", "-::1"], parse=_parse_words, render=_render_words),
    _p("bind-source-addr", "string", ""),
    _p("port", "int", 6379, minimum=0, maximum=65535),
    _p("tls-port", "int", 0, minimum=0, maximum=65535),
    _p("unixsocket", "string", "", immutable=True),
    _p("unixsocketperm", "int", 0, minimum=0, maximum=0o777, immutable=True),
    _p("protected-mode", "bool", True),
    _p("tcp-backlog", "int", 511, minimum=0, immutable=True),
    _p("tcp-keepalive", "int", 300, minimum=0),
    _p("timeout", "int", 0, minimum=0),
    _p("socket-mark-id", "int", 0, minimum=0, maximum=2**32 - 1, immutable=True),
    # general
    _p("daemonize", "bool", False, immutable=True),
    _p("supervised", "enum", "no", choices=("upstart", "systemd", "auto", "no"), immutable=True),
    _p("pidfile", "string", "", immutable=True),
    _p("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning", "nothing")),
    _p("logfile", "string", "", immutable=True),
    _p("syslog-enabled", "bool", False, immutable=True),
    _p("syslog-ident", "string", "redis", immutable=True),
    _p("syslog-facility", "enum", "local0", immutable=True,
       choices=("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7")),
    _p("crash-log-enabled", "bool", True),
    _p("crash-memcheck-enabled", "bool", True),
    _p("databases", "int", 16, minimum=1, maximum=2**31 - 1, immutable=True),
    _p("always-show-logo", "bool", False, immutable=True),
    _p("set-proc-title", "bool", True, immutable=True),
    _p("proc-title-template", "string", "{title} {listen-addr} {server-mode}", validate=_check_title_template),
    _p("locale-collate", "string", ""),
    _p("enable-debug-command", "enum", "no", choices=("no", "yes", "local"), immutable=True),
    _p("enable-protected-configs", "enum", "no", choices=("no", "yes", "local"), immutable=True),
    _p("enable-module-command", "enum", "no", choices=("no", "yes", "local"), immutable=True),
    # snapshotting
    _p("save", "special", [(3600, 1), (300, 100), (60, 10000)], parse=_parse_save, render=_render_save),
    _p("stop-writes-on-bgsave-error", "bool", True),
    _p("rdbcompression", "bool", True),
    _p("rdbchecksum", "bool", True, immutable=True),
    _p("sanitize-dump-payload", "enum", "no", choices=("no", "yes", "clients")),
    _p("dbfilename", "string", "dump.rdb", protected=True, validate=_check_dbfilename),
    _p("rdb-del-sync-files", "bool", False),
    _p("dir", "special", "", parse=_parse_dir, render=str, protected=True),
    _p("rdb-save-incremental-fsync", "bool", True),
    _p("rdb-key-save-delay", "int", 0, hidden=True),
    _p("key-load-delay", "int", 0, hidden=True),
    # replication
    _p("replicaof", "special", None, alias="slaveof", parse=_parse_replicaof, render=_render_replicaof),
    _p("masterauth", "string", "", sensitive=True),
    _p("masteruser", "string", ""),
    _p("replica-serve-stale-data", "bool", True, alias="slave-serve-stale-data"),
    _p("replica-read-only", "bool", True, alias="slave-read-only"),
    _p("repl-diskless-sync", "bool", True),
    _p("repl-diskless-sync-delay", "int", 5, minimum=0),
    _p("repl-diskless-sync-max-replicas", "int", 0, minimum=0),
    _p("repl-diskless-load", "enum", "disabled", choices=("disabled", "on-empty-db", "swapdb")),
    _p("repl-ping-replica-period", "int", 10, alias="repl-ping-slave-period", minimum=1),
    _p("repl-timeout", "int", 60, minimum=1),
    _p("repl-disable-tcp-nodelay", "bool", False),
    _p("repl-backlog-size", "memory", 1024 * 1024, minimum=1, maximum=LONG_MAX),
    _p("repl-backlog-ttl", "int", 3600, minimum=0, maximum=LONG_MAX),
    _p("replica-priority", "int", 100, alias="slave-priority", minimum=0),
    _p("replica-announced", "bool", True),
    _p("replica-announce-ip", "string", "", alias="slave-announce-ip"),
    _p("replica-announce-port", "int", 0, alias="slave-announce-port", minimum=0, maximum=65535),
    _p("min-replicas-to-write", "int", 0, alias="min-slaves-to-write", minimum=0),
    _p("min-replicas-max-lag", "int", 10, alias="min-slaves-max-lag", minimum=0),
    _p("replica-lazy-flush", "bool", False, alias="slave-lazy-flush"),
    _p("replica-ignore-maxmemory", "bool", True, alias="slave-ignore-maxmemory"),
    _p("replica-ignore-disk-write-errors", "bool", False),
    _p("propagation-error-behavior", "enum", "ignore", choices=("ignore", "panic", "panic-on-replicas")),
    # security
    _p("requirepass", "string", "", sensitive=True),
    _p("acllog-max-len", "int", 128, minimum=0, maximum=LONG_MAX),
    _p("aclfile", "string", "", immutable=True),
    _p("acl-pubsub-default", "enum", "resetchannels", choices=("allchannels", "resetchannels")),
    _p("rename-command", "string", "", immutable=True, hidden=True),
    # clients / memory
    _p("maxclients", "int", 10000, minimum=1, maximum=2**32 - 1),
    _p("maxmemory", "memory", 0, minimum=0, maximum=2**64 - 1),
    _p("maxmemory-policy", "enum", "noeviction", choices=(
        "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu",
        "allkeys-random", "noeviction")),
    _p("maxmemory-samples", "int", 5, minimum=1),
    _p("maxmemory-eviction-tenacity", "int", 10, minimum=0, maximum=100),
    _p("maxmemory-clients", "memory", 0, minimum=-100),
    _p("lazyfree-lazy-eviction", "bool", False),
    _p("lazyfree-lazy-expire", "bool", False),
    _p("lazyfree-lazy-server-del", "bool", False),
    _p("lazyfree-lazy-user-del", "bool", False),
    _p("lazyfree-lazy-user-flush", "bool", False),
    _p("io-threads", "int", 1, minimum=1, maximum=128, immutable=True),
    _p("io-threads-do-reads", "bool", False, immutable=True),
    _p("oom-score-adj", "enum", "no", choices=("no", "yes", "relative", "absolute")),
    _p("oom-score-adj-values", "string", "0 200 800", validate=_check_oom_values),
    _p("disable-thp", "bool", True, immutable=True),
    # append only
    _p("appendonly", "bool", False),
    _p("appendfilename", "string", "appendonly.aof", immutable=True),
    _p("appenddirname", "string", "appendonlydir", immutable=True),
    _p("appendfsync", "enum", "everysec", choices=("everysec", "always", "no")),
    _p("no-appendfsync-on-rewrite", "bool", False),
    _p("auto-aof-rewrite-percentage", "int", 100, minimum=0),
    _p("auto-aof-rewrite-min-size", "memory", 64 * 1024 * 1024, minimum=0, maximum=LONG_MAX),
    _p("aof-load-truncated", "bool", True),
    _p("aof-use-rdb-preamble", "bool", True),
    _p("aof-timestamp-enabled", "bool", False),
    _p("aof-rewrite-incremental-fsync", "bool", True),
    # scripting, cluster
    _p("busy-reply-threshold", "int", 5000, alias="lua-time-limit", minimum=0, maximum=LONG_MAX),
    _p("cluster-enabled", "bool", False, immutable=True),
    _p("cluster-config-file", "string", "nodes.conf", immutable=True),
    _p("cluster-node-timeout", "int", 15000, minimum=0, maximum=LONG_MAX),
    _p("cluster-port", "int", 0, immutable=True),
    # slow log, latency, notifications
    _p("slowlog-log-slower-than", "int", 10000, minimum=-1, maximum=LONG_MAX),
    _p("slowlog-max-len", "int", 128, minimum=0, maximum=LONG_MAX),
    _p("latency-monitor-threshold", "int", 0, minimum=0, maximum=LONG_MAX),
    _p("latency-tracking", "bool", True),
    _p("latency-tracking-info-percentiles", "special", [50.0, 99.0, 99.9], parse=_parse_percentiles, render=_render_percentiles),
    _p("notify-keyspace-events", "special", "", parse=_parse_notify, render=str),
    # advanced
    _p("hash-max-listpack-entries", "int", 512, alias="hash-max-ziplist-entries", minimum=0, maximum=LONG_MAX),
    _p("hash-max-listpack-value", "memory", 64, alias="hash-max-ziplist-value", minimum=0, maximum=LONG_MAX),
    _p("list-max-listpack-size", "int", -2, alias="list-max-ziplist-size"),
    _p("list-compress-depth", "int", 0, minimum=0),
    _p("set-max-intset-entries", "int", 512, minimum=0, maximum=LONG_MAX),
    _p("set-max-listpack-entries", "int", 128, minimum=0, maximum=LONG_MAX),
    _p("set-max-listpack-value", "memory", 64, minimum=0, maximum=LONG_MAX),
    _p("zset-max-listpack-entries", "int", 128, alias="zset-max-ziplist-entries", minimum=0, maximum=LONG_MAX),
    _p("zset-max-listpack-value", "memory", 64, alias="zset-max-ziplist-value", minimum=0, maximum=LONG_MAX),
    _p("hll-sparse-max-bytes", "memory", 3000, minimum=0, maximum=LONG_MAX),
    _p("stream-node-max-bytes", "memory", 4096, minimum=0, maximum=LONG_MAX),
    _p("stream-node-max-entries", "int", 100, minimum=0, maximum=LONG_MAX),
    _p("activerehashing", "bool", True),
    _p("client-output-buffer-limit", "special",
       {"normal": (0, 0, 0), "replica": (256 * 1024 * 1024, 64 * 1024 * 1024, 60),
        "pubsub": (32 * 1024 * 1024, 8 * 1024 * 1024, 60)},
       parse=_parse_obuf, render=_render_obuf),
    _p("client-query-buffer-limit", "memory", 1024 * 1024 * 1024, minimum=1024 * 1024, maximum=LONG_MAX),
    _p("proto-max-bulk-len", "memory", 512 * 1024 * 1024, minimum=1024 * 1024, maximum=LONG_MAX),
    _p("hz", "int", 10, minimum=0),
    _p("dynamic-hz", "bool", True),
    _p("active-expire-effort", "int", 1, minimum=1, maximum=10),
    _p("activedefrag", "bool", False, validate=_check_activedefrag),
    _p("jemalloc-bg-thread", "bool", True),
    _p("lfu-log-factor", "int", 10, minimum=0),
    _p("lfu-decay-time", "int", 1, minimum=0),
    _p("max-new-connections-per-cycle", "int", 10, minimum=1),
    _p("max-new-tls-connections-per-cycle", "int", 1, minimum=1),
    _p("shutdown-timeout", "int", 10, minimum=0),
    _p("shutdown-on-sigint", "string", "default", validate=_check_shutdown_flags),
    _p("shutdown-on-sigterm", "string", "default", validate=_check_shutdown_flags),
    _p("ignore-warnings", "string", ""),
    _p("tracking-table-max-keys", "int", 1000000, minimum=0, maximum=LONG_MAX),
    _p("aof-disable-auto-gc", "bool", False),
    _p("server_cpulist", "string", "", immutable=True),
    _p("bio_cpulist", "string", "", immutable=True),
    _p("aof_rewrite_cpulist", "string", "", immutable=True),
    _p("bgsave_cpulist", "string", "", immutable=True),
    # active defragmentation (accepted and reported; there is no defragmenter)
    _p("active-defrag-cycle-min", "int", 1, minimum=1, maximum=99),
    _p("active-defrag-cycle-max", "int", 25, minimum=1, maximum=99),
    _p("active-defrag-threshold-lower", "int", 10, minimum=0, maximum=1000),
    _p("active-defrag-threshold-upper", "int", 100, minimum=0, maximum=1000),
    _p("active-defrag-ignore-bytes", "memory", 100 << 20, minimum=1, maximum=LONG_MAX),
    _p("active-defrag-max-scan-fields", "int", 1000, minimum=1, maximum=LONG_MAX),
    # cluster (accepted and reported; cluster mode is not implemented)
    _p("cluster-require-full-coverage", "bool", True),
    _p("cluster-replica-no-failover", "bool", False, alias="cluster-slave-no-failover"),
    _p("cluster-allow-reads-when-down", "bool", False),
    _p("cluster-allow-pubsubshard-when-down", "bool", True),
    _p("cluster-allow-replica-migration", "bool", True),
    _p("cluster-announce-ip", "string", ""),
    _p("cluster-announce-hostname", "string", "", validate=_check_hostname),
    _p("cluster-announce-bus-port", "int", 0, minimum=0, maximum=65535),
    _p("cluster-announce-port", "int", 0, minimum=0, maximum=65535),
    _p("cluster-announce-tls-port", "int", 0, minimum=0, maximum=65535),
    _p("cluster-replica-validity-factor", "int", 10, alias="cluster-slave-validity-factor", minimum=0),
    _p("cluster-migration-barrier", "int", 1, minimum=0),
    _p("cluster-link-sendbuf-limit", "memory", 0, minimum=0, maximum=2**64 - 1),
    _p("cluster-preferred-endpoint-type", "enum", "ip", choices=("ip", "hostname", "unknown-endpoint")),
    # TLS (accepted and reported; connections are plain TCP)
    _p("tls-session-cache-size", "int", 20 * 1024, minimum=0),
    _p("tls-session-cache-timeout", "int", 300, minimum=0),
    _p("tls-cluster", "bool", False, validate=_check_tls),
    _p("tls-replication", "bool", False),
    _p("tls-auth-clients", "enum", "yes", choices=("no", "yes", "optional")),
    _p("tls-prefer-server-ciphers", "bool", False),
    _p("tls-session-caching", "bool", True),
    _p("tls-cert-file", "string", ""),
    _p("tls-key-file", "string", ""),
    _p("tls-key-file-pass", "string", "", sensitive=True),
    _p("tls-client-cert-file", "string", ""),
    _p("tls-client-key-file", "string", ""),
    _p("tls-client-key-file-pass", "string", "", sensitive=True),
    _p("tls-dh-params-file", "string", ""),
    _p("tls-ca-cert-file", "string", ""),
    _p("tls-ca-cert-dir", "string", ""),
    _p("tls-protocols", "string", ""),
    _p("tls-ciphers", "string", ""),
    _p("tls-ciphersuites", "string", ""),
    # hidden debugging knobs
    _p("watchdog-period", "int", 0, minimum=0, hidden=True),
    _p("use-exit-on-panic", "bool", False, hidden=True),
    _p("loading-process-events-interval-bytes", "int", 2 * 1024 * 1024, minimum=1024, hidden=True),
]

BY_NAME: dict[str, Param] = {}
for _param in PARAMS:
    BY_NAME[_param.name] = _param
    if _param.alias:
        BY_NAME[_param.alias] = _param


class Config:
    """The live configuration: values by canonical name, plus change listeners."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        for p in PARAMS:
            v = p.default
            if isinstance(v, (list, dict)):
                v = type(v)(v)
            self.values[p.name] = v
        self.values["dir"] = os.getcwd()
        self.config_file: str | None = None
        self.listeners: dict[str, list[Callable[[Any], None]]] = {}
        self.from_file: set[str] = set()
        # ``user`` lines of the config file: [name, rule, ...], loaded by the ACL at start-up
        self.acl_users: list[list[bytes]] = []
        # ``rename-command OLD NEW`` lines (lower case), applied by the server at start-up
        self.renames: list[tuple[bytes, bytes]] = []
        # CONFIG REWRITE's ``user`` lines (set by the ACL): every user, unless an aclfile holds them
        self.user_lines: Callable[[], list[str]] | None = None
        # ``loadmodule path [args]`` lines, loaded by the server at start-up (module_loader)
        self.load_modules: list[list[str]] = []

    def __getitem__(self, name: str) -> Any:
        return self.values[BY_NAME[name].name]

    def get(self, name: str) -> Any:
        return self.values[BY_NAME[name].name]

    def on_change(self, name: str, fn: Callable[[Any], None]) -> None:
        """Call ``fn(new_value)`` whenever ``name`` is set at run time."""
        self.listeners.setdefault(BY_NAME[name].name, []).append(fn)

    @staticmethod
    def lookup(name: str) -> Param | None:
        return BY_NAME.get(name.lower())

    def parse_value(self, p: Param, text: str) -> Any:
        """Turn the text of a value into its typed form, or raise ConfigError."""
        if p.kind == "bool":
            flag = _bool(text)
            if p.validate is not None:
                p.validate(flag)
            return flag
        if p.kind == "int":
            from ._resp import string2ll

            parsed = string2ll(text.encode("utf-8", "surrogateescape"))
            if parsed is None:
                raise ConfigError("argument couldn't be parsed into an integer")
            v = int(parsed)
            self._check_range(p, v)
            return v
        if p.kind == "memory":
            t = text.strip()
            if p.name == "maxmemory-clients":
                # PERCENT_CONFIG: "5%" is stored as -5, plain values as bytes
                try:
                    if t.endswith("%"):
                        if not t[:-1].isdigit():
                            raise ConfigError
                        v = -int(t[:-1])
                    else:
                        if t.startswith("-"):
                            raise ConfigError
                        v = parse_memory(t)
                except ConfigError:
                    raise ConfigError("argument must be a memory or percent value") from None
                if v < -100:
                    raise ConfigError("percentage argument must be less or equal to 100")
            else:
                if t.startswith("-"):
                    raise ConfigError("argument must be a memory value")
                v = parse_memory(t)
                if p.maximum == 2**64 - 1:
                    v = min(v, p.maximum)  # strtoull saturates
            self._check_range(p, v)
            return v
        if p.kind == "enum":
            t = text.lower()
            if t not in p.choices:
                raise ConfigError("argument(s) must be one of the following: " + ", ".join(p.choices))
            return t
        if p.kind == "string":
            if p.validate is not None:
                p.validate(text)
            return text
        assert p.parse is not None
        return p.parse(text)

    @staticmethod
    def _check_range(p: Param, v: int) -> None:
        # createIntConfig() bounds default to a C int, like most of Redis' numeric configs
        lo = p.minimum if p.minimum is not None else (-(2**31) if p.kind == "int" else -(2**63))
        hi = p.maximum if p.maximum is not None else (2**31 - 1 if p.kind == "int" else 2**63 - 1)
        if not lo <= v <= hi:
            raise ConfigError(f"argument must be between {lo} and {hi} inclusive")

    def render(self, name: str) -> str:
        """The value as CONFIG GET shows it."""
        p = BY_NAME[name.lower()]
        v = self.values[p.name]
        if p.kind == "bool":
            return "yes" if v else "no"
        if p.render is not None:
            return p.render(v)
        return str(v)

    def set_text(self, name: str, text: str, *, startup: bool = False) -> None:
        """Set one parameter from text (config file, argv or CONFIG SET)."""
        p = BY_NAME.get(name.lower())
        if p is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        if p.immutable and not startup:
            raise ConfigError("can't set immutable config")
        value = self.parse_value(p, text)
        if p.name == "dir":
            # like Redis, ``dir`` changes the working directory as soon as it is read
            value = self._change_dir(value)
        self.values[p.name] = value
        if not startup:
            for fn in self.listeners.get(p.name, ()):
                fn(value)

    def matching(self, pattern: bytes, seen: set[str] | None = None) -> list[str]:
        """Names matching one CONFIG GET argument, as Redis' configGetCommand lists them.

        An exact name (no glob characters) is answered as typed, aliases included;
        a glob lists canonical names plus aliases whose canonical name is not listed
        yet; hidden parameters need an exact name.  ``seen`` holds the canonical
        names already answered by earlier arguments of the same CONFIG GET.
        """
        if seen is None:
            seen = set()
        out: list[str] = []
        text = pattern.decode("utf-8", "surrogateescape")
        if not any(c in pattern for c in b"*?["):
            p = BY_NAME.get(text.lower())
            if p is not None and p.name != "rename-command" and text.lower() not in seen:
                seen.add(text.lower())  # an alias asked by name is listed beside its canonical name
                out.append(text)
            return out
        pat = pattern.lower()
        for p in PARAMS:
            if p.hidden:
                continue
            for nm in (p.name, p.alias):
                if nm is None or nm in seen or p.name in seen and nm == p.alias:
                    continue
                if stringmatch(pat, nm.encode(), nocase=True):
                    seen.add(nm)
                    out.append(nm)
        return out

    def set_many(self, pairs: list[tuple[str, str]], allow_protected: bool = True) -> None:
        """CONFIG SET with several pairs: all values are applied, or none.

        Raises ``ConfigError(name, reason)``-style errors as ``SetError`` so the
        command can format Redis' reply.  Values are parsed and validated first,
        then stored, then the change listeners run; a failing listener rolls
        every parameter back to its previous value (and re-runs the listeners).
        """
        params: list[Param] = []
        for name, _text in pairs:
            p = BY_NAME.get(name.lower())
            if p is None or p.name == "rename-command":
                raise SetError(name, None, unknown=True)
        for name, _text in pairs:
            p = BY_NAME[name.lower()]
            if p.immutable:
                raise SetError(name, "can't set immutable config")
            if p.protected and not allow_protected:
                raise SetError(name, "can't set protected config")
            if p in params:
                raise SetError(name, "duplicate parameter")
            params.append(p)
        old = {p.name: self.values[p.name] for p in params}
        new: dict[str, Any] = {}
        for p, (_name, text) in zip(params, pairs):
            try:
                value = self.parse_value(p, text)
                if p.name == "dir":
                    value = self._change_dir(value)
            except ConfigError as e:
                self._restore(old)
                raise SetError(p.name, str(e)) from None
            new[p.name] = value
            self.values[p.name] = value
        done: list[Param] = []
        for p in params:
            try:
                for fn in self.listeners.get(p.name, ()):
                    fn(new[p.name])
            except Exception as e:  # an apply step failed: back to the old values
                self._restore(old)
                for q in done + [p]:
                    for fn in self.listeners.get(q.name, ()):
                        try:
                            fn(old[q.name])
                        except Exception:
                            pass
                raise SetError(p.name, str(e) or None) from None
            done.append(p)

    def _restore(self, old: dict[str, Any]) -> None:
        for name, value in old.items():
            if name == "dir" and self.values[name] != value:
                try:
                    os.chdir(value)
                except OSError:
                    pass
            self.values[name] = value

    @staticmethod
    def _change_dir(path: str) -> str:
        try:
            os.chdir(path)
        except OSError as e:
            raise ConfigError(e.strerror or str(e)) from None
        return os.getcwd()

    # -- files --------------------------------------------------------------

    def load_text(self, text: str) -> None:
        """Apply redis.conf-style text; raises ConfigError with the line number."""
        from ._resp import split_args

        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            words = split_args(line.encode())
            if words is None:
                raise ConfigError(f"Unbalanced quotes in configuration line|{lineno}|{raw}")
            argv = [w.decode("utf-8", "surrogateescape") for w in words]
            self.apply_directive(argv, lineno, raw)

    def apply_directive(self, argv: list[str], lineno: int = 0, raw: str = "") -> None:
        name = argv[0].lower()
        p = BY_NAME.get(name)
        where = f"|{lineno}|{raw}"
        if name == "include" and len(argv) == 2:
            self._include(argv[1])
            return
        if name == "user" and len(argv) >= 2:
            self._add_user(argv, where)
            return
        if name == "rename-command" and len(argv) == 3:
            self._add_rename(argv, where)
            return
        if name == "loadmodule" and len(argv) >= 2:
            self.load_modules.append(argv[1:])
            return
        if p is None or p.name == "rename-command":
            raise ConfigError("Bad directive or wrong number of arguments" + where)
        if p.name == "save" and len(argv) == 1:
            argv = [argv[0], ""]  # a bare ``save`` line is ``save ""`` (Redis 7.2)
        if len(argv) < 2:
            raise ConfigError("wrong number of arguments" + where)
        if p.name == "save":
            if len(argv) == 2 and argv[1] == "":
                self.values["save"] = []
                self.from_file.add("save")
                return
            prev = self.values["save"] if "save" in self.from_file else []
            try:
                if "" in argv[1:]:  # ``save "" 100 1``: an empty word is no number
                    raise ConfigError("Invalid save parameters")
                self.values["save"] = prev + _parse_save(" ".join(argv[1:]))
            except ConfigError as e:
                raise ConfigError(str(e) + where) from None
            self.from_file.add("save")
            return
        if p.name == "client-output-buffer-limit":
            try:
                cur = dict(self.values[p.name])
                cur.update(_parse_obuf(" ".join(argv[1:])))
            except ConfigError as e:
                raise ConfigError(str(e) + where) from None
            self.values[p.name] = cur
            return
        if p.kind == "special" or p.name == "rename-command":
            text = " ".join(argv[1:])
        else:
            if len(argv) != 2:
                raise ConfigError("wrong number of arguments" + where)
            text = argv[1]
        try:
            self.set_text(p.name, text, startup=True)
        except ConfigError as e:
            raise ConfigError(str(e) + where) from None
        self.from_file.add(p.name)

    def _include(self, path: str) -> None:
        """``include path``: a glob includes every match in name order, none when nothing matches (Redis 7)."""
        import glob

        paths = sorted(glob.glob(path)) if any(ch in path for ch in "*?[") else [path]
        for one in paths:
            try:
                with open(one) as f:
                    text = f.read()
            except OSError as e:
                raise OpenError(f"Fatal error, can't open config file '{one}': {e.strerror}") from None
            self.load_text(text)

    def _add_rename(self, argv: list[str], where: str) -> None:
        """``rename-command OLD NEW`` (renameCommand's checks); applied by the server at start-up."""
        from .commands.table import COMMANDS

        live = set(COMMANDS)
        for old, new in self.renames:
            live.discard(old)
            if new:
                live.add(new)
        old, new = (a.encode("utf-8", "surrogateescape").lower() for a in argv[1:3])
        if old not in live:
            raise ConfigError("No such command in rename-command" + where)
        live.discard(old)
        if new and new in live:
            raise ConfigError("Target command name already exists" + where)
        self.renames.append((old, new))

    def _add_user(self, argv: list[str], where: str) -> None:
        """A ``user`` line (ACLAppendUserForLoading): rules checked now, loaded at start-up."""
        from .acl import E_DUPLICATE, E_UNKNOWN, RuleError, User, merge_selector_args

        words = [w.encode("utf-8", "surrogateescape") for w in argv[1:]]
        if any(u[0] == words[0] for u in self.acl_users):
            raise ConfigError(f"Error in user declaration '{argv[1]}': {E_DUPLICATE}" + where)
        rules, bad = merge_selector_args(words[1:])
        if rules is None:
            raise ConfigError(f"Error in user declaration '{argv[2 + bad]}': Wrong format" + where)
        fake = User(b"__fakeuser__")
        for j, op in enumerate(rules):
            try:
                fake.apply(op)
            except RuleError as e:
                if str(e) != E_UNKNOWN:
                    raise ConfigError(f"Error in user declaration '{argv[2 + j]}': {e}" + where) from None
        self.acl_users.append([words[0], *rules])

    def rewrite(self, force_all: bool = False) -> None:
        """CONFIG REWRITE: keep the file's comments, update or append changed values
        (``force_all``, DEBUG CONFIG-REWRITE-FORCE-ALL: every parameter, defaults too)."""
        if not self.config_file:
            raise ConfigError("The server is running without a config file")
        try:
            with open(self.config_file) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            lines = []
        from ._resp import split_args

        out: list[str] = []
        done: set[str] = set()
        for line in lines:
            s = line.strip()
            if s and not s.startswith("#"):
                words = split_args(s.encode())
                if words and words[0].lower() == b"user" and self.user_lines is not None:
                    continue  # rewriteConfigUserOption: the users are written again below
                if words:
                    p = BY_NAME.get(words[0].decode(errors="replace").lower())
                    if p is not None:
                        if p.name in done:
                            continue
                        done.add(p.name)
                        if self._is_default(p) and not force_all:
                            continue
                        out.extend(self._directive_lines(p))
                        continue
            out.append(line)
        for p in PARAMS:
            if p.name not in done and (force_all or not self._is_default(p)) and p.name != "dir" \
                    and not p.hidden:
                out.extend(self._directive_lines(p))
        if self.user_lines is not None and not self.values["aclfile"]:
            out.extend(self.user_lines())
        tmp = self.config_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(out) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.config_file)

    def _is_default(self, p: Param) -> bool:
        return bool(self.values[p.name] == p.default)

    def _directive_lines(self, p: Param) -> list[str]:
        v = self.values[p.name]
        if p.name == "save":
            if not v:
                return ['save ""']
            return [f"save {s} {c}" for s, c in v]
        text = self.render(p.name)
        if text == "" or any(ch in text for ch in ' "\'\\'):
            if p.kind != "special" or p.name == "dir":
                text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return [f"{p.name} {text}"]
