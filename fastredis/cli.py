"""``fastredis-server [redis.conf] [--name value ...]``: argv and config file to Config.

Follows redis-server: an optional config file first (``-`` reads stdin), then
``--name value`` pairs that are appended to the file's text, so later options win.
A bad directive prints Redis' FATAL CONFIG FILE ERROR block and exits with 1.
"""

from __future__ import annotations

import os
import sys

from .config import Config, ConfigError, OpenError
from .version import FASTREDIS_VERSION, REDIS_VERSION

USAGE = """Usage: ./fastredis-server [/path/to/redis.conf] [options] [-]
       ./fastredis-server - (read config from stdin)
       ./fastredis-server -v or --version
       ./fastredis-server -h or --help

Examples:
       ./fastredis-server (run the server with default conf)
       ./fastredis-server /etc/redis/6379.conf
       ./fastredis-server --port 7777
       ./fastredis-server --port 7777 --replicaof 127.0.0.1 8888
       ./fastredis-server /etc/myredis.conf --loglevel verbose -
       ./fastredis-server /etc/myredis.conf --loglevel verbose
"""


def _quote(arg: str) -> str:
    """Quote an argv word so the config-line splitter gives it back unchanged."""
    out = ['"']
    for ch in arg:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def build_config(argv: list[str]) -> Config:
    """Turn redis-server style arguments into a Config (raises ConfigError)."""
    config = Config()
    j = 0
    text = ""
    if argv and not argv[0].startswith("-"):
        config.config_file = os.path.abspath(argv[0])
        try:
            with open(argv[0]) as f:
                text = f.read()
        except OSError as e:
            raise OpenError(f"Fatal error, can't open config file '{argv[0]}': {e.strerror}") from None
        j = 1
    options: list[str] = []
    read_stdin = False
    while j < len(argv):
        a = argv[j]
        if a == "-":
            read_stdin = True
        elif a.startswith("--") and len(a) > 2:
            # like redis-server: options are joined by newlines after the file's text
            options.append(("\n" if options else "") + a[2:] + " ")
        else:
            if not options:
                raise ConfigError(f"Invalid option '{a}'")
            options.append(_quote(a) + " ")
        j += 1
    if read_stdin:
        text += "\n" + sys.stdin.read()
    text += "\n" + "".join(options)
    config.load_text(text)
    logfile = config["logfile"]
    if logfile:
        try:
            with open(logfile, "a"):
                pass
        except OSError as e:
            raise ConfigError(f"Can't open the log file: {e.strerror}") from None
    return config


def _fatal(e: ConfigError) -> None:
    if isinstance(e, OpenError):
        from .log import Logger

        Logger(role="C")("warning", str(e))
        return
    msg = str(e)
    parts = msg.split("|", 2)
    sys.stderr.write(f"\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n")
    if len(parts) == 3:
        reason, lineno, line = parts
        sys.stderr.write(f"Reading the configuration file, at line {lineno}\n>>> '{line.strip()}'\n{reason}\n")
    else:
        sys.stderr.write(msg + "\n")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-v", "--version"):
        print(f"Redis server v={REDIS_VERSION} sha=00000000:0 malloc=libc bits=64 build=fastredis-{FASTREDIS_VERSION}")
        sys.exit(0)
    if args and args[0] in ("-h", "--help"):
        sys.stderr.write(USAGE)
        sys.exit(1)
    try:
        config = build_config(args)
    except ConfigError as e:
        _fatal(e)
        sys.exit(1)
    from . import supervise
    from .log import Logger

    supervisor = supervise.detect(config["supervised"], Logger(config["logfile"], config["loglevel"], role="C"))
    if config["daemonize"] and supervisor.mode == "no":
        supervisor.daemon_ready_fd = supervise.daemonize()
    from .server import run

    try:
        code = run(config, supervisor)
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)
