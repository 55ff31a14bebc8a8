"""Geo commands (Redis' geo.c): positions stored in a sorted set as 52-bit geohash scores.

GEOADD rewrites itself into ZADD (and is replicated as that ZADD).  Searches
scan the nine geohash cells Redis scans, in the same order, so unsorted
results, COUNT ANY cut-offs and stored sets match Redis exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import geohash as gh
from .._resp import NULL_ARRAY, Raw, ReplyError
from ..types.zset import ZSet
from .table import SYNTAX_ERROR, command, parse_int
from .zsets import _zadd_generic, delete_dst, get_zset, parse_double, store_zset

if TYPE_CHECKING:
    from ..context import Client

UNSUPPORTED_UNIT = ReplyError("ERR unsupported unit provided. please use M, KM, FT, MI")
NOT_DECODABLE = ReplyError("ERR could not decode requested zset member")


def human_double(d: float) -> bytes:
    """ld2string(LD_STR_HUMAN): %.17Lf without trailing zeros, "-0" as "0"."""
    s = "%.17f" % d
    if "." in s:
        s = s.rstrip("0")
        if s.endswith("."):
            s = s[:-1]
    if s == "-0":
        s = "0"
    return s.encode()


def reply_human_double(c: Client, d: float) -> Any:
    """addReplyHumanLongDouble: a bulk string in RESP2, a double in RESP3."""
    s = human_double(d)
    if c.resp > 2:
        return Raw(b"," + s + b"\r\n")
    return s


def extract_lonlat(lon_arg: bytes, lat_arg: bytes) -> tuple[float, float]:
    lon = parse_double(lon_arg)
    lat = parse_double(lat_arg)
    if lon < gh.GEO_LONG_MIN or lon > gh.GEO_LONG_MAX or lat < gh.GEO_LAT_MIN or lat > gh.GEO_LAT_MAX:
        raise ReplyError("ERR invalid longitude,latitude pair %f,%f" % (lon, lat))
    return lon, lat


def extract_unit(arg: bytes) -> float:
    u = arg.lower()
    if u == b"m":
        return 1.0
    if u == b"km":
        return 1000.0
    if u == b"ft":
        return 0.3048
    if u == b"mi":
        return 1609.34
    raise UNSUPPORTED_UNIT


def extract_distance(args: list[bytes]) -> tuple[float, float]:
    """(radius, conversion) from ``<radius> <unit>``."""
    d = parse_double(args[0], ReplyError("ERR need numeric radius"))
    if d < 0:
        raise ReplyError("ERR radius cannot be negative")
    return d, extract_unit(args[1])


def extract_box(args: list[bytes]) -> tuple[float, float, float]:
    """(width, height, conversion) from ``<width> <height> <unit>``."""
    w = parse_double(args[0], ReplyError("ERR need numeric width"))
    h = parse_double(args[1], ReplyError("ERR need numeric height"))
    if h < 0 or w < 0:
        raise ReplyError("ERR height or width cannot be negative")
    return w, h, extract_unit(args[2])


def lonlat_of_member(z: ZSet, member: bytes) -> tuple[float, float] | None:
    s = z.dict.get(member)
    if s is None:
        return None
    return gh.decode_score(s)


# ---------------------------------------------------------------------------
# GEOADD GEOPOS GEODIST GEOHASH
# ---------------------------------------------------------------------------


@command("geoadd", -5, "write denyoom", keys=(1, 1, 1), group="geo", since="3.2.0", acl="@write @geo @slow",
         summary="Add one or more geospatial items in the geospatial index represented using a sorted set",
         complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.")
def geoadd(c: Client, argv: list[bytes]) -> Any:
    xx = nx = False
    longidx = 2
    argc = len(argv)
    while longidx < argc:
        opt = argv[longidx].lower()
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        elif opt != b"ch":
            break
        longidx += 1
    if (argc - longidx) % 3 or (xx and nx):
        raise SYNTAX_ERROR
    elements = (argc - longidx) // 3
    zargv: list[bytes] = [b"zadd", *argv[1:longidx]]
    for i in range(elements):
        base = longidx + i * 3
        lon, lat = extract_lonlat(argv[base], argv[base + 1])
        h = gh.encode_wgs84(lon, lat, gh.GEO_STEP_MAX)
        bits = gh.align52(h) if h is not None else 0
        zargv.append(str(bits).encode())
        zargv.append(argv[base + 2])
    c.propagate_argv = [zargv]
    return _zadd_generic(c, zargv, False)


@command("geopos", -2, "readonly", keys=(1, 1, 1), group="geo", since="3.2.0", acl="@read @geo @slow",
         summary="Returns longitude and latitude of members of a geospatial index",
         complexity="O(N) where N is the number of members requested.")
def geopos(c: Client, argv: list[bytes]) -> Any:
    z = get_zset(c, argv[1])
    out: list[Any] = []
    for m in argv[2:]:
        xy = lonlat_of_member(z, m) if z is not None else None
        if xy is None:
            out.append(NULL_ARRAY)
        else:
            out.append([reply_human_double(c, xy[0]), reply_human_double(c, xy[1])])
    return out


@command("geodist", -4, "readonly", keys=(1, 1, 1), group="geo", since="3.2.0", acl="@read @geo @slow",
         summary="Returns the distance between two members of a geospatial index", complexity="O(log(N))")
def geodist(c: Client, argv: list[bytes]) -> Any:
    to_meter = 1.0
    if len(argv) == 5:
        to_meter = extract_unit(argv[4])
    elif len(argv) > 5:
        raise SYNTAX_ERROR
    z = get_zset(c, argv[1])
    if z is None:
        return None
    a = lonlat_of_member(z, argv[2])
    b = lonlat_of_member(z, argv[3])
    if a is None or b is None:
        return None
    return b"%.4f" % (gh.distance(a[0], a[1], b[0], b[1]) / to_meter)


@command("geohash", -2, "readonly", keys=(1, 1, 1), group="geo", since="3.2.0", acl="@read @geo @slow",
         summary="Returns members of a geospatial index as standard geohash strings",
         complexity="O(log(N)) for each member requested, where N is the number of elements in the sorted set.")
def geohash(c: Client, argv: list[bytes]) -> Any:
    z = get_zset(c, argv[1])
    out: list[Any] = []
    for m in argv[2:]:
        xy = lonlat_of_member(z, m) if z is not None else None
        out.append(None if xy is None else gh.geohash_string(xy[0], xy[1]))
    return out


# ---------------------------------------------------------------------------
# Searches
# ---------------------------------------------------------------------------

RADIUS_COORDS = 1
RADIUS_MEMBER = 2
RADIUS_NOSTORE = 4
GEOSEARCH = 8
GEOSEARCHSTORE = 16

SORT_NONE, SORT_ASC, SORT_DESC = 0, 1, 2


class _Point:
    __slots__ = ("member", "dist", "score", "lon", "lat")

    def __init__(self, member: bytes, dist: float, score: float, lon: float, lat: float) -> None:
        self.member = member
        self.dist = dist
        self.score = score
        self.lon = lon
        self.lat = lat


def _in_shape(shape: gh.Shape, score: float) -> _Point | None:
    lon, lat = gh.decode_score(score)
    if shape.circular:
        d = gh.distance_if_in_radius(shape.lon, shape.lat, lon, lat, shape.radius * shape.conversion)
    else:
        d = gh.distance_if_in_rectangle(shape.width * shape.conversion, shape.height * shape.conversion,
                                        shape.lon, shape.lat, lon, lat)
    if d is None:
        return None
    return _Point(b"", d, score, lon, lat)


def _points_in_box(z: ZSet, h: gh.HashBits, shape: gh.Shape, ga: list[_Point], limit: int) -> None:
    lo_score = gh.align52(h)
    hi_score = gh.align52(gh.HashBits(h.bits + 1, h.step))
    lo, hi = z.score_range(float(lo_score), False, float(hi_score), True)
    for score, member in z.slice(lo, hi):
        p = _in_shape(shape, score)
        if p is not None:
            p.member = member
            ga.append(p)
        if ga and limit and len(ga) >= limit:
            break


def search_points(z: ZSet, shape: gh.Shape, limit: int = 0) -> list[_Point]:
    """membersOfAllNeighbors: the matching points in Redis' scan order."""
    center, nb = gh.calculate_areas(shape)
    cells = [center, nb.north, nb.south, nb.east, nb.west, nb.north_east, nb.north_west, nb.south_east,
             nb.south_west]
    ga: list[_Point] = []
    last = 0
    for i, cell in enumerate(cells):
        if cell.is_zero():
            continue
        if last and cell.bits == cells[last].bits and cell.step == cells[last].step:
            continue
        if ga and limit and len(ga) >= limit:
            break
        _points_in_box(z, cell, shape, ga, limit)
        last = i
    return ga


def _georadius_generic(c: Client, argv: list[bytes], src_idx: int, flags: int) -> Any:
    storekey: bytes | None = None
    storedist = False
    z = get_zset(c, argv[src_idx])
    shape = gh.Shape()
    argc = len(argv)
    if flags & RADIUS_COORDS:
        base_args = 6
        shape.circular = True
        shape.lon, shape.lat = extract_lonlat(argv[2], argv[3])
        shape.radius, shape.conversion = extract_distance(argv[4:6])
    elif (flags & RADIUS_MEMBER) and z is None:
        base_args = 5
    elif flags & RADIUS_MEMBER:
        base_args = 5
        shape.circular = True
        xy = lonlat_of_member(z, argv[2])  # type: ignore[arg-type]
        if xy is None:
            raise NOT_DECODABLE
        shape.lon, shape.lat = xy
        shape.radius, shape.conversion = extract_distance(argv[3:5])
    else:
        base_args = 2
        if flags & GEOSEARCHSTORE:
            base_args = 3
            storekey = argv[1]
    withdist = withhash = withcoords = False
    frommember = fromloc = byradius = bybox = False
    sort = SORT_NONE
    any_ = False
    count = 0
    remaining = argc - base_args
    i = 0
    while i < remaining:
        pos = base_args + i
        arg = argv[pos].lower()
        if arg == b"withdist":
            withdist = True
        elif arg == b"withhash":
            withhash = True
        elif arg == b"withcoord":
            withcoords = True
        elif arg == b"any":
            any_ = True
        elif arg == b"asc":
            sort = SORT_ASC
        elif arg == b"desc":
            sort = SORT_DESC
        elif arg == b"count" and i + 1 < remaining:
            count = parse_int(argv[pos + 1])
            if count <= 0:
                raise ReplyError("ERR COUNT must be > 0")
            i += 1
        elif (arg in (b"store", b"storedist") and i + 1 < remaining and not flags & RADIUS_NOSTORE
              and not flags & GEOSEARCH):
            storekey = argv[pos + 1]
            storedist = arg == b"storedist"
            i += 1
        elif arg == b"storedist" and flags & GEOSEARCH and flags & GEOSEARCHSTORE:
            storedist = True
        elif arg == b"frommember" and i + 1 < remaining and flags & GEOSEARCH and not fromloc:
            if z is not None:
                xy = lonlat_of_member(z, argv[pos + 1])
                if xy is None:
                    raise NOT_DECODABLE
                shape.lon, shape.lat = xy
            frommember = True
            i += 1
        elif arg == b"fromlonlat" and i + 2 < remaining and flags & GEOSEARCH and not frommember:
            shape.lon, shape.lat = extract_lonlat(argv[pos + 1], argv[pos + 2])
            fromloc = True
            i += 2
        elif arg == b"byradius" and i + 2 < remaining and flags & GEOSEARCH and not bybox:
            shape.radius, shape.conversion = extract_distance(argv[pos + 1:pos + 3])
            shape.circular = True
            byradius = True
            i += 2
        elif arg == b"bybox" and i + 3 < remaining and flags & GEOSEARCH and not byradius:
            shape.width, shape.height, shape.conversion = extract_box(argv[pos + 1:pos + 4])
            shape.circular = False
            bybox = True
            i += 3
        else:
            raise SYNTAX_ERROR
        i += 1
    if storekey is not None and (withdist or withhash or withcoords):
        what = "GEOSEARCHSTORE" if flags & GEOSEARCHSTORE else "STORE option in GEORADIUS"
        raise ReplyError(f"ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    name = argv[0].decode("utf-8", "replace")
    if flags & GEOSEARCH and not (frommember or fromloc):
        raise ReplyError(f"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")
    if flags & GEOSEARCH and not (byradius or bybox):
        raise ReplyError(f"ERR exactly one of BYRADIUS and BYBOX can be specified for {name}")
    if any_ and not count:
        raise ReplyError("ERR the ANY argument requires COUNT argument")
    if z is None:
        if storekey is not None:
            delete_dst(c, storekey)
            return 0
        return []
    if count != 0 and sort == SORT_NONE and not any_:
        sort = SORT_ASC
    ga = search_points(z, shape, count if any_ else 0)
    if not ga and storekey is None:
        return []
    returned = len(ga) if count == 0 or len(ga) < count else count
    if sort == SORT_ASC:
        ga.sort(key=lambda p: p.dist)
    elif sort == SORT_DESC:
        ga.sort(key=lambda p: p.dist, reverse=True)
    conv = shape.conversion
    if storekey is None:
        out: list[Any] = []
        opts = withdist or withhash or withcoords
        for p in ga[:returned]:
            dist = p.dist / conv
            if not opts:
                out.append(p.member)
                continue
            item: list[Any] = [p.member]
            if withdist:
                item.append(b"%.4f" % dist)
            if withhash:
                item.append(int(p.score))
            if withcoords:
                item.append([reply_human_double(c, p.lon), reply_human_double(c, p.lat)])
            out.append(item)
        return out
    if returned:
        nz = ZSet()
        nz.big = True  # built like Redis' skiplist result; store_zset picks the encoding
        for p in ga[:returned]:
            nz.add(p.member, p.dist / conv if storedist else p.score)
        event = b"geosearchstore" if flags & GEOSEARCH else b"georadiusstore"
        store_zset(c, storekey, nz, event, returned)
    else:
        delete_dst(c, storekey)
    return returned


def _georadius_keys(argv: list[bytes]) -> list[int]:
    keys = [1]
    stored = -1
    i = 5
    while i < len(argv):
        a = argv[i].lower()
        if a in (b"store", b"storedist") and i + 1 < len(argv):
            stored = i + 1
            i += 1
        i += 1
    if stored > 0:
        keys.append(stored)
    return keys


_RADIUS_COMPLEXITY = ("O(N+log(M)) where N is the number of elements inside the bounding box of the circular "
                      "area delimited by center and radius and M is the number of items inside the index.")
_SEARCH_COMPLEXITY = ("O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area "
                      "around the shape provided as the filter and M is the number of items inside the shape")


@command("georadius", -6, "write denyoom movablekeys", keys=(1, 1, 1), group="geo", since="3.2.0",
         key_finder=_georadius_keys, acl="@write @geo @slow", complexity=_RADIUS_COMPLEXITY,
         summary="Query a sorted set representing a geospatial index to fetch members matching a given "
                 "maximum distance from a point")
def georadius(c: Client, argv: list[bytes]) -> Any:
    return _georadius_generic(c, argv, 1, RADIUS_COORDS)


@command("georadiusbymember", -5, "write denyoom movablekeys", keys=(1, 1, 1), group="geo", since="3.2.0",
         key_finder=_georadius_keys, acl="@write @geo @slow", complexity=_RADIUS_COMPLEXITY,
         summary="Query a sorted set representing a geospatial index to fetch members matching a given "
                 "maximum distance from a member")
def georadiusbymember(c: Client, argv: list[bytes]) -> Any:
    return _georadius_generic(c, argv, 1, RADIUS_MEMBER)


@command("georadius_ro", -6, "readonly", keys=(1, 1, 1), group="geo", since="3.2.10",
         acl="@read @geo @slow", complexity=_RADIUS_COMPLEXITY, summary="A read-only variant for GEORADIUS")
def georadius_ro(c: Client, argv: list[bytes]) -> Any:
    return _georadius_generic(c, argv, 1, RADIUS_COORDS | RADIUS_NOSTORE)


@command("georadiusbymember_ro", -5, "readonly", keys=(1, 1, 1), group="geo", since="3.2.10",
         acl="@read @geo @slow", complexity=_RADIUS_COMPLEXITY,
         summary="A read-only variant for GEORADIUSBYMEMBER")
def georadiusbymember_ro(c: Client, argv: list[bytes]) -> Any:
    return _georadius_generic(c, argv, 1, RADIUS_MEMBER | RADIUS_NOSTORE)


@command("geosearch", -7, "readonly", keys=(1, 1, 1), group="geo", since="6.2.0", acl="@read @geo @slow",
         complexity=_SEARCH_COMPLEXITY,
         summary="Query a sorted set representing a geospatial index to fetch members inside an area of a box "
                 "or a circle.")
def geosearch(c: Client, argv: list[bytes]) -> Any:
    return _georadius_generic(c, argv, 1, GEOSEARCH)


@command("geosearchstore", -8, "write denyoom", keys=(1, 2, 1), group="geo", since="6.2.0",
         acl="@write @geo @slow", complexity=_SEARCH_COMPLEXITY,
         summary="Query a sorted set representing a geospatial index to fetch members inside an area of a box "
                 "or a circle, and store the result in another key.")
def geosearchstore(c: Client, argv: list[bytes]) -> Any:
    return _georadius_generic(c, argv, 2, GEOSEARCH | GEOSEARCHSTORE)
