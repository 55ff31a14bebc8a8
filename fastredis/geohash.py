"""A port of Redis' geohash.c and geohash_helper.c.

Positions are stored as 52-bit interleaved geohashes (26 bits per axis over
longitude [-180, 180] and latitude [-85.05112878, 85.05112878]) used as sorted
set scores.  Every step here mirrors the C code, including its integer
truncations and floating point order of operations, so scores, decoded
coordinates, search areas and distances come out bit-identical to Redis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

GEO_STEP_MAX = 26
GEO_LAT_MIN = -85.05112878
GEO_LAT_MAX = 85.05112878
GEO_LONG_MIN = -180.0
GEO_LONG_MAX = 180.0

D_R = math.pi / 180.0
EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37

_U64 = (1 << 64) - 1
_U32 = (1 << 32) - 1


@dataclass
class HashBits:
    bits: int = 0
    step: int = 0

    def is_zero(self) -> bool:
        return self.bits == 0 and self.step == 0


@dataclass
class Area:
    hash: HashBits
    lon_min: float = 0.0
    lon_max: float = 0.0
    lat_min: float = 0.0
    lat_max: float = 0.0


@dataclass
class Neighbors:
    north: HashBits = field(default_factory=HashBits)
    east: HashBits = field(default_factory=HashBits)
    west: HashBits = field(default_factory=HashBits)
    south: HashBits = field(default_factory=HashBits)
    north_east: HashBits = field(default_factory=HashBits)
    south_east: HashBits = field(default_factory=HashBits)
    north_west: HashBits = field(default_factory=HashBits)
    south_west: HashBits = field(default_factory=HashBits)


@dataclass
class Shape:
    """GeoShape: a circle (radius) or an axis-aligned box (width, height) around xy."""

    lon: float = 0.0
    lat: float = 0.0
    circular: bool = True
    radius: float = 0.0
    width: float = 0.0
    height: float = 0.0
    conversion: float = 1.0
    bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def _c_double_to_u32(x: float) -> int:
    """(uint32_t) of a non-negative double (truncation)."""
    return int(x) & _U32


def interleave64(xlo: int, ylo: int) -> int:
    B = (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF,
         0x0000FFFF0000FFFF)
    S = (1, 2, 4, 8, 16)
    x = xlo
    y = ylo
    for i in (4, 3, 2, 1, 0):
        x = (x | (x << S[i])) & B[i]
        y = (y | (y << S[i])) & B[i]
    return (x | (y << 1)) & _U64


def deinterleave64(interleaved: int) -> int:
    B = (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF,
         0x0000FFFF0000FFFF, 0x00000000FFFFFFFF)
    S = (0, 1, 2, 4, 8, 16)
    x = interleaved
    y = interleaved >> 1
    for i in range(6):
        x = (x | (x >> S[i])) & B[i]
        y = (y | (y >> S[i])) & B[i]
    return (x | (y << 32)) & _U64


def encode(lon_min: float, lon_max: float, lat_min: float, lat_max: float, longitude: float,
           latitude: float, step: int) -> HashBits | None:
    """geohashEncode: None when the point is outside the supported/given ranges."""
    if step > 32 or step == 0:
        return None
    if (longitude > GEO_LONG_MAX or longitude < GEO_LONG_MIN or latitude > GEO_LAT_MAX
            or latitude < GEO_LAT_MIN):
        return None
    if latitude < lat_min or latitude > lat_max or longitude < lon_min or longitude > lon_max:
        return None
    lat_offset = (latitude - lat_min) / (lat_max - lat_min)
    long_offset = (longitude - lon_min) / (lon_max - lon_min)
    lat_offset *= float(1 << step)
    long_offset *= float(1 << step)
    return HashBits(interleave64(_c_double_to_u32(lat_offset), _c_double_to_u32(long_offset)), step)


def encode_wgs84(longitude: float, latitude: float, step: int = GEO_STEP_MAX) -> HashBits | None:
    return encode(GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX, longitude, latitude, step)


def decode(hash_: HashBits, lon_min: float = GEO_LONG_MIN, lon_max: float = GEO_LONG_MAX,
           lat_min: float = GEO_LAT_MIN, lat_max: float = GEO_LAT_MAX) -> Area | None:
    """geohashDecode: the cell covered by ``hash_``."""
    if hash_.is_zero():
        return None
    step = hash_.step
    hash_sep = deinterleave64(hash_.bits)
    lat_scale = lat_max - lat_min
    long_scale = lon_max - lon_min
    ilato = hash_sep & _U32
    ilono = (hash_sep >> 32) & _U32
    div = float(1 << step)
    a = Area(hash_)
    a.lat_min = lat_min + (ilato * 1.0 / div) * lat_scale
    a.lat_max = lat_min + ((ilato + 1) * 1.0 / div) * lat_scale
    a.lon_min = lon_min + (ilono * 1.0 / div) * long_scale
    a.lon_max = lon_min + ((ilono + 1) * 1.0 / div) * long_scale
    return a


def decode_area_to_lonlat(a: Area) -> tuple[float, float]:
    lon = (a.lon_min + a.lon_max) / 2
    lon = min(max(lon, GEO_LONG_MIN), GEO_LONG_MAX)
    lat = (a.lat_min + a.lat_max) / 2
    lat = min(max(lat, GEO_LAT_MIN), GEO_LAT_MAX)
    return lon, lat


def score_to_bits(score: float) -> int:
    """(uint64_t) of a sorted set score, as gcc on x86-64 converts it (out of range included)."""
    if score >= 2.0**63:
        return int(score) if score < 2.0**64 else 0
    if score != score or score < -(2.0**63):
        return 1 << 63
    return int(score) & _U64


def decode_score(score: float) -> tuple[float, float]:
    """decodeGeohash: the (longitude, latitude) a 52-bit score stands for."""
    a = decode(HashBits(score_to_bits(score), GEO_STEP_MAX))
    assert a is not None
    return decode_area_to_lonlat(a)


def align52(h: HashBits) -> int:
    return (h.bits << (52 - h.step * 2)) & _U64


def _move_x(h: HashBits, d: int) -> None:
    if d == 0:
        return
    x = h.bits & 0xAAAAAAAAAAAAAAAA
    y = h.bits & 0x5555555555555555
    zz = 0x5555555555555555 >> (64 - h.step * 2)
    if d > 0:
        x = x + (zz + 1)
    else:
        x = x | zz
        x = x - (zz + 1)
    x &= _U64
    x &= 0xAAAAAAAAAAAAAAAA >> (64 - h.step * 2)
    h.bits = x | y


def _move_y(h: HashBits, d: int) -> None:
    if d == 0:
        return
    x = h.bits & 0xAAAAAAAAAAAAAAAA
    y = h.bits & 0x5555555555555555
    zz = 0xAAAAAAAAAAAAAAAA >> (64 - h.step * 2)
    if d > 0:
        y = y + (zz + 1)
    else:
        y = y | zz
        y = y - (zz + 1)
    y &= _U64
    y &= 0x5555555555555555 >> (64 - h.step * 2)
    h.bits = x | y


def neighbors(h: HashBits) -> Neighbors:
    n = Neighbors()

    def moved(dx: int, dy: int) -> HashBits:
        c = HashBits(h.bits, h.step)
        _move_x(c, dx)
        _move_y(c, dy)
        return c

    n.east = moved(1, 0)
    n.west = moved(-1, 0)
    n.south = moved(0, -1)
    n.north = moved(0, 1)
    n.north_west = moved(-1, 1)
    n.north_east = moved(1, 1)
    n.south_east = moved(1, -1)
    n.south_west = moved(-1, -1)
    return n


def deg_rad(ang: float) -> float:
    return ang * D_R


def rad_deg(ang: float) -> float:
    return ang / D_R


def estimate_steps_by_radius(range_meters: float, lat: float) -> int:
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    if step < 1:
        step = 1
    if step > 26:
        step = 26
    return step


def _ccos(x: float) -> float:
    """C's cos(): NaN for an infinite angle (an infinite radius) instead of a ValueError."""
    return math.cos(x) if math.isfinite(x) else math.nan


def bounding_box(shape: Shape) -> tuple[float, float, float, float]:
    """geohashBoundingBox: (min lon, min lat, max lon, max lat) around the shape."""
    longitude, latitude = shape.lon, shape.lat
    height = shape.conversion * (shape.radius if shape.circular else shape.height / 2)
    width = shape.conversion * (shape.radius if shape.circular else shape.width / 2)
    lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS)
    long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / _ccos(deg_rad(latitude + lat_delta)))
    long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / _ccos(deg_rad(latitude - lat_delta)))
    southern = latitude < 0
    b0 = longitude - long_delta_bottom if southern else longitude - long_delta_top
    b2 = longitude + long_delta_bottom if southern else longitude + long_delta_top
    return b0, latitude - lat_delta, b2, latitude + lat_delta


def calculate_areas(shape: Shape) -> tuple[HashBits, Neighbors]:
    """geohashCalculateAreasByShapeWGS84: the center cell and the 8 neighbours to scan."""
    shape.bounds = bounding_box(shape)
    min_lon, min_lat, max_lon, max_lat = shape.bounds
    longitude, latitude = shape.lon, shape.lat
    if shape.circular:
        radius_meters = shape.radius
    else:
        radius_meters = math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2))
    radius_meters *= shape.conversion
    steps = estimate_steps_by_radius(radius_meters, latitude)

    def compute(steps: int) -> tuple[HashBits, Neighbors, Area]:
        h = encode_wgs84(longitude, latitude, steps)
        if h is None:  # cannot happen for validated coordinates; keep Redis' zeroed struct
            h = HashBits(0, steps)
        nb = neighbors(h)
        ar = decode(h) or Area(h)
        return h, nb, ar

    h, nb, area = compute(steps)
    decrease = False
    north = decode(nb.north) or Area(nb.north)
    south = decode(nb.south) or Area(nb.south)
    east = decode(nb.east) or Area(nb.east)
    west = decode(nb.west) or Area(nb.west)
    if north.lat_max < max_lat:
        decrease = True
    if south.lat_min > min_lat:
        decrease = True
    if east.lon_max < max_lon:
        decrease = True
    if west.lon_min > min_lon:
        decrease = True
    if steps > 1 and decrease:
        steps -= 1
        h, nb, area = compute(steps)
    if steps >= 2:
        if area.lat_min < min_lat:
            nb.south = HashBits()
            nb.south_west = HashBits()
            nb.south_east = HashBits()
        if area.lat_max > max_lat:
            nb.north = HashBits()
            nb.north_east = HashBits()
            nb.north_west = HashBits()
        if area.lon_min < min_lon:
            nb.west = HashBits()
            nb.south_west = HashBits()
            nb.north_west = HashBits()
        if area.lon_max > max_lon:
            nb.east = HashBits()
            nb.south_east = HashBits()
            nb.north_east = HashBits()
    return h, nb


def lat_distance(lat1d: float, lat2d: float) -> float:
    return EARTH_RADIUS_IN_METERS * abs(deg_rad(lat2d) - deg_rad(lat1d))


def distance(lon1d: float, lat1d: float, lon2d: float, lat2d: float) -> float:
    """geohashGetDistance: haversine with Redis' earth radius."""
    lon1r = deg_rad(lon1d)
    lon2r = deg_rad(lon2d)
    v = math.sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return lat_distance(lat1d, lat2d)
    lat1r = deg_rad(lat1d)
    lat2r = deg_rad(lat2d)
    u = math.sin((lat2r - lat1r) / 2)
    a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS_IN_METERS * math.asin(math.sqrt(a))


def distance_if_in_radius(x1: float, y1: float, x2: float, y2: float, radius: float) -> float | None:
    d = distance(x1, y1, x2, y2)
    return None if d > radius else d


def distance_if_in_rectangle(width_m: float, height_m: float, x1: float, y1: float, x2: float,
                             y2: float) -> float | None:
    """geohashGetDistanceIfInRectangle: (x1, y1) is the box center."""
    if lat_distance(y2, y1) > height_m / 2:
        return None
    if distance(x2, y2, x1, y2) > width_m / 2:
        return None
    return distance(x1, y1, x2, y2)


GEOALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"


def geohash_string(lon: float, lat: float) -> bytes:
    """The standard 11-character geohash (re-encoded over lat [-90, 90]) GEOHASH returns."""
    h = encode(-180.0, 180.0, -90.0, 90.0, lon, lat, 26)
    bits = h.bits if h is not None else 0
    out = bytearray(11)
    for i in range(11):
        idx = 0 if i == 10 else (bits >> (52 - ((i + 1) * 5))) & 0x1F
        out[i] = GEOALPHABET[idx]
    return bytes(out)
