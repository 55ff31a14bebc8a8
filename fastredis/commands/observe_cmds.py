"""SLOWLOG, LATENCY and LOLWUT: the commands over ``observe.Observer``.

The data structures and the rules for what gets recorded live in
``fastredis/observe.py``; these handlers only parse arguments and shape replies
the way Redis 7.2's slowlog.c, latency.c and lolwut*.c do.
"""

from __future__ import annotations

import math
import random
import struct
from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError, Status, Verbatim
from ..observe import latency_doctor, latency_graph
from ..version import REDIS_VERSION
from ._help import help_lines
from .table import COMMANDS, command, container, parse_int, subcommand

if TYPE_CHECKING:
    from ..context import Client

# -- SLOWLOG -----------------------------------------------------------------

container("slowlog", -2, "", group="server", since="2.2.12", summary="A container for slow log commands.")

COUNT_RANGE = ReplyError("ERR count should be greater than or equal to -1")


@subcommand("slowlog", "get", -2, "admin loading stale", since="2.2.12",
            summary="Returns the slow log's entries.")
def slowlog_get(c: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise ReplyError(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try SLOWLOG HELP."
                         % argv[1].split(b"\0", 1)[0][:128])
    log = c.server.observer.slowlog
    count = 10
    if len(argv) == 3:
        count = parse_int(argv[2], COUNT_RANGE)
        if count < -1:
            raise COUNT_RANGE
        if count == -1:
            count = len(log.entries)
    out: list[Any] = []
    for e in log.entries:
        if len(out) >= count:
            break
        out.append(list(e))
    return out


@subcommand("slowlog", "len", 2, "admin loading stale", since="2.2.12",
            summary="Returns the number of entries in the slow log.")
def slowlog_len(c: Client, argv: list[bytes]) -> Any:
    return len(c.server.observer.slowlog.entries)


@subcommand("slowlog", "reset", 2, "admin loading stale", since="2.2.12", summary="Clears all entries from the slow log.")
def slowlog_reset(c: Client, argv: list[bytes]) -> Any:
    c.server.observer.slowlog.reset()
    return OK


@subcommand("slowlog", "help", 2, "loading stale", since="6.2.0", summary="Show helpful text about the different subcommands")
def slowlog_help(c: Client, argv: list[bytes]) -> Any:
    lines = help_lines("SLOWLOG", [
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
    ])
    lines[-1] = Status(b"    Prints this help.")  # slowlog.c says "Prints"
    return lines


# -- LATENCY -----------------------------------------------------------------

container("latency", -2, "", group="server", since="2.8.13", summary="A container for latency diagnostics commands.")


@subcommand("latency", "latest", 2, "admin noscript loading stale", since="2.8.13",
            summary="Returns the latest latency samples for all events.")
def latency_latest(c: Client, argv: list[bytes]) -> Any:
    out = []
    for event, ts in c.server.observer.latency.events.items():
        t, lat = ts.latest()
        out.append([event.encode(), t, lat, ts.max])
    return out


@subcommand("latency", "history", 3, "admin noscript loading stale", since="2.8.13",
            summary="Returns timestamp-latency samples for an event.")
def latency_history(c: Client, argv: list[bytes]) -> Any:
    ts = c.server.observer.latency.events.get(argv[2].decode("utf-8", "surrogateescape"))
    if ts is None:
        return []
    return [[t, lat] for t, lat in ts.ordered()]


@subcommand("latency", "reset", -2, "admin noscript loading stale", since="2.8.13",
            summary="Resets the latency data for one or more events.")
def latency_reset(c: Client, argv: list[bytes]) -> Any:
    mon = c.server.observer.latency
    if len(argv) == 2:
        return mon.reset()
    return sum(mon.reset(a.decode("utf-8", "surrogateescape")) for a in argv[2:])


@subcommand("latency", "graph", 3, "admin noscript loading stale", since="2.8.13",
            summary="Returns a latency graph for an event.")
def latency_graph_cmd(c: Client, argv: list[bytes]) -> Any:
    event = argv[2].decode("utf-8", "surrogateescape")
    ts = c.server.observer.latency.events.get(event)
    if ts is None:
        raise ReplyError(b"ERR No samples available for event '%s'" % argv[2].split(b"\0", 1)[0])
    return Verbatim(latency_graph(event, ts).encode("utf-8", "surrogateescape"))


@subcommand("latency", "doctor", 2, "admin noscript loading stale", since="2.8.13",
            summary="Returns a human-readable latency analysis report.")
def latency_doctor_cmd(c: Client, argv: list[bytes]) -> Any:
    cfg = c.server.config
    fork_rate = float(c.server.extras.get("fork_rate_gb_per_sec", 0.0))
    report = latency_doctor(c.server.observer, cfg["hz"], cfg["appendfsync"] == "always" and cfg["appendonly"],
                            fork_rate)
    return Verbatim(report.encode())


def _cdf(h: Any) -> dict[bytes, Any]:
    return {b"calls": h.total, b"histogram_usec": dict(h.cdf_usec())}


@subcommand("latency", "histogram", -2, "admin noscript loading stale", since="7.0.0",
            summary="Returns the cumulative distribution of latencies of a subset or all commands.")
def latency_histogram(c: Client, argv: list[bytes]) -> Any:
    c.server.observer.sync_histograms()
    out: dict[bytes, Any] = {}

    def add(cmd: Any) -> None:
        h = cmd.latency_histogram
        if h is not None and h.total:
            out[cmd.fullname.encode()] = _cdf(h)

    if len(argv) == 2:
        for cmd in COMMANDS.values():
            add(cmd)
            for sub in cmd.subcommands.values():
                add(sub)
        return out
    for name in argv[2:]:
        cmd = _lookup_fullname(name)
        if cmd is None:
            continue
        add(cmd)
        for sub in cmd.subcommands.values():
            add(sub)
    return out


def _lookup_fullname(name: bytes) -> Any:
    """lookupCommandBySds: ``get`` or ``config|set``."""
    parts = name.lower().split(b"|")
    cmd = COMMANDS.get(parts[0])
    if cmd is None or len(parts) > 2:
        return None
    if len(parts) == 2:
        return cmd.subcommands.get(parts[1])
    return cmd


@subcommand("latency", "help", 2, "loading stale", since="2.8.13",
            summary="Returns helpful text about the different subcommands.")
def latency_help(c: Client, argv: list[bytes]) -> Any:
    lines = help_lines("LATENCY", [
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
    ])
    lines[-1] = Status(b"    Prints this help.")  # latency.c says "Prints"
    return lines


# -- LOLWUT ------------------------------------------------------------------

RAND_MAX = 2**31 - 1


def _f32(x: float) -> float:
    """C float arithmetic: round to single precision."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def _rand() -> int:
    return random.getrandbits(31)


class Canvas:
    """lwCanvas: width x height pixels, colours 0..3."""

    def __init__(self, width: int, height: int, bg: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray([bg]) * (width * height)

    def draw(self, x: int, y: int, color: int) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.pixels[x + y * self.width] = color

    def get(self, x: int, y: int) -> int:
        if 0 <= x < self.width and 0 <= y < self.height:
            return self.pixels[x + y * self.width]
        return 0

    def line(self, x1: int, y1: int, x2: int, y2: int, color: int) -> None:
        dx, dy = abs(x2 - x1), abs(y2 - y1)
        sx = 1 if x1 < x2 else -1
        sy = 1 if y1 < y2 else -1
        err = dx - dy
        while True:
            self.draw(x1, y1, color)
            if x1 == x2 and y1 == y2:
                break
            e2 = err * 2
            if e2 > -dy:
                err -= dy
                x1 += sx
            if e2 < dx:
                err += dx
                y1 += sy

    def square(self, x: int, y: int, size: float, angle: float, color: int) -> None:
        size = float(_c_round(_f32(size / 1.4142135623)))
        k = _f32(math.pi / 4 + angle)
        px, py = [], []
        for _ in range(4):
            px.append(_c_round(math.sin(k) * size + x))
            py.append(_c_round(math.cos(k) * size + y))
            k = _f32(k + math.pi / 2)
        for j in range(4):
            self.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color)


def _c_round(x: float) -> int:
    """C round(): halves away from zero."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def _braille(canvas: Canvas) -> str:
    """lwRenderCanvas (lolwut5's renderCanvas): 2x4 pixels per Braille character."""
    w, h, px = canvas.width, canvas.height, canvas.pixels
    blank = "\u2800" * ((w + 1) // 2)
    g = canvas.get
    text = []
    for y in range(0, h, 4):
        if px.find(1, y * w, min(h, y + 4) * w) < 0:
            line = blank
        else:
            chars = []
            for x in range(0, w, 2):
                byte = (g(x, y) and 1) | (g(x, y + 1) and 2) | (g(x, y + 2) and 4) | (g(x + 1, y) and 8) \
                    | (g(x + 1, y + 1) and 16) | (g(x + 1, y + 2) and 32) | (g(x, y + 3) and 64) \
                    | (g(x + 1, y + 3) and 128)
                chars.append(chr(0x2800 + byte))
            line = "".join(chars)
        text.append(line)
        if y != h - 1:  # the C loop ends every row with "\n" but the one starting at height-1
            text.append("\n")
    return "".join(text)


# Redis draws up to 2000 x ~400,000 pixels (LOLWUT VERSION 5 1000 1 200); a Python server would block for
# seconds on that, so the canvas is cut at the bottom beyond this many pixels.
MAX_CANVAS_PIXELS = 1 << 22


def _lolwut5(args: list[bytes]) -> str:
    cols, per_row, per_col = 66, 8, 12
    if len(args) > 0:
        cols = parse_int(args[0])
    if len(args) > 1:
        per_row = parse_int(args[1])
    if len(args) > 2:
        per_col = parse_int(args[2])
    cols = min(max(cols, 1), 1000)
    per_row = min(max(per_row, 1), 200)
    per_col = min(max(per_col, 1), 200)
    width = cols * 2
    padding = 2 if width > 4 else 0
    side = _f32((width - padding * 2) / per_row)
    height = int(_f32(side * per_col) + padding * 2)
    height = min(height, MAX_CANVAS_PIXELS // width)
    canvas = Canvas(width, height, 0)
    for y in range(per_col):
        for x in range(per_row):
            sx = int(_f32(_f32(x * side) + _f32(side / 2)) + padding)
            sy = int(_f32(_f32(y * side) + _f32(side / 2)) + padding)
            angle = 0.0
            if y > 1:
                r1 = _f32(_rand() / RAND_MAX / per_col * y)
                r2 = _f32(_rand() / RAND_MAX / per_col * y)
                r3 = _f32(_rand() / RAND_MAX / per_col * y)
                if _rand() % 2:
                    r1 = -r1
                if _rand() % 2:
                    r2 = -r2
                if _rand() % 2:
                    r3 = -r3
                angle = r1
                sx = int(sx + _f32(r2 * side / 3))
                sy = int(sy + _f32(r3 * side / 3))
            canvas.square(sx, sy, side, angle, 1)
    return (_braille(canvas) + "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "
            + REDIS_VERSION + "\n")


def _skyscraper(canvas: Canvas, xoff: int, width: int, height: int, windows: bool, color: int) -> None:
    starty = canvas.height - 1
    endy = starty - height + 1
    for y in range(starty, endy - 1, -1):
        for x in range(xoff, xoff + width):
            if y == endy and (x <= xoff + 1 or x >= xoff + width - 2):
                continue
            col = color
            if windows and xoff + 1 < x < xoff + width - 2 and endy + 1 < y < starty - 1:
                relx = x - (xoff + 1)
                rely = y - (endy + 1)
                if (relx // 2) % 2 and rely % 2:
                    while True:
                        col = 1 + _rand() % 2
                        if col != color:
                            break
                    if relx % 2:
                        col = canvas.get(x - 1, y)
            canvas.draw(x, y, col)


def _lolwut6(args: list[bytes]) -> str:
    cols, rows = 80, 20
    if len(args) > 0:
        cols = parse_int(args[0])
    if len(args) > 1:
        rows = parse_int(args[1])
    cols = min(max(cols, 1), 1000)
    rows = min(max(rows, 1), 1000)
    canvas = Canvas(cols, rows, 3)
    h = canvas.height
    for color in (2, 1):
        offset = -10
        while offset < canvas.width:
            offset += _rand() % 8
            width = 10 + _rand() % 9
            if color == 2:
                height = h // 2 + (_rand() % h) // 2
            else:
                height = h // 2 + (_rand() % h) // 3
            _skyscraper(canvas, offset, width, height, False, color)
            offset += width // 2 if color == 2 else width + 1
    offset = -10
    while offset < canvas.width:
        offset += _rand() % 8
        width = 5 + _rand() % 14
        if width % 4:
            width += width % 3
        height = h // 3 + (_rand() % h) // 2
        _skyscraper(canvas, offset, width, height, True, 0)
        offset += width + 5
    escapes = ("0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m")
    lines = []
    for y in range(canvas.height):
        lines.append("".join("\033[%s \033[0m" % escapes[canvas.get(x, y)] for x in range(canvas.width)))
    return ("\n".join(lines) + "\nDedicated to the 8 bit game developers of past and present.\n"
            "Original 8 bit image from Plaguemon by hikikomori. Redis ver. " + REDIS_VERSION + "\n")


@command("lolwut", -1, "readonly fast", group="server", since="5.0.0",
         summary="Displays computer art and the Redis version")
def lolwut(c: Client, argv: list[bytes]) -> Any:
    version = REDIS_VERSION
    args = argv[1:]
    if len(argv) >= 3 and argv[1].lower() == b"version":
        version = "%d.0.0" % (parse_int(argv[2]) & 0xFFFFFFFF)
        args = argv[3:]
    v = version + "\0\0"
    if (v[0] == "5" and v[1] == "." and v[2] != "9") or (v[0] == "4" and v[1] == "." and v[2] == "9"):
        text = _lolwut5(args)
    elif (v[0] == "6" and v[1] == "." and v[2] != "9") or (v[0] == "5" and v[1] == "." and v[2] == "9"):
        text = _lolwut6(args)
    else:
        text = "Redis ver. " + REDIS_VERSION + "\n"
    return Verbatim(text.encode())
