"""Geo commands: scores, positions, distances, hashes, searches, stores and errors.

Expected values are what Redis replies (checked against redis-server).
"""

from __future__ import annotations

import pytest
from conftest import RawClient, err

PALERMO = ("13.361389", "38.115556", "Palermo")
CATANIA = ("15.087269", "37.502669", "Catania")


def raw(server, *cmds, resp: int = 2) -> list[bytes]:
    c = RawClient(server.port, resp)
    try:
        return [c.call(*cmd) for cmd in cmds]
    finally:
        c.close()


@pytest.fixture
def sicily(r):
    assert r.execute_command("GEOADD", "Sicily", *PALERMO, *CATANIA) == 2
    return r


def test_geoadd_scores_are_52_bit_geohashes(sicily):
    r = sicily
    assert r.zscore("Sicily", "Palermo") == 3479099956230698
    assert r.zscore("Sicily", "Catania") == 3479447370796909


def test_geoadd_options(sicily):
    r = sicily
    assert r.execute_command("GEOADD", "Sicily", "NX", "13.5", "38", "Palermo", "1", "1", "New") == 1
    assert r.zscore("Sicily", "Palermo") == 3479099956230698
    assert r.execute_command("GEOADD", "Sicily", "XX", "13.5", "38", "Palermo", "2", "2", "Other") == 0
    assert r.zscore("Sicily", "Other") is None
    assert r.execute_command("GEOADD", "Sicily", "XX", "CH", *PALERMO) == 1
    assert r.execute_command("GEOADD", "Sicily", "CH", *PALERMO) == 0


def test_geoadd_errors(r):
    assert err(r.execute_command, "GEOADD", "g", "200", "100", "a") == \
        "invalid longitude,latitude pair 200.000000,100.000000"
    assert err(r.execute_command, "GEOADD", "g", "1", "85.06", "a") == \
        "invalid longitude,latitude pair 1.000000,85.060000"
    assert err(r.execute_command, "GEOADD", "g", "x", "1", "a") == "value is not a valid float"
    assert err(r.execute_command, "GEOADD", "g", "XX", "NX", "1", "1", "a") == "syntax error"
    assert err(r.execute_command, "GEOADD", "g", "1", "2", "3", "4") == "syntax error"
    assert err(r.execute_command, "GEOADD", "g", "GT", "1", "1") == "value is not a valid float"
    assert err(r.execute_command, "GEOADD", "g", "1", "1") == "wrong number of arguments for 'geoadd' command"
    assert r.exists("g") == 0


def test_geopos(sicily, server):
    assert raw(server, ("GEOPOS", "Sicily", "Palermo", "nope"), ("GEOPOS", "nokey", "a")) == [
        b"*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n",
        b"*1\r\n*-1\r\n"]
    assert raw(server, ("GEOPOS", "Sicily", "Palermo", "nope"), resp=3) == [
        b"*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"]


def test_geopos_edges(r, server):
    r.execute_command("GEOADD", "g", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw", "0", "0", "zero")
    assert raw(server, ("GEOPOS", "g", "ne", "sw", "zero")) == [
        b"*3\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n"
        b"*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n"
        b"*2\r\n$19\r\n0.00000268220901489\r\n$19\r\n0.00000126736058093\r\n"]


def test_geodist(sicily, server):
    assert raw(server, ("GEODIST", "Sicily", "Palermo", "Catania"), ("GEODIST", "Sicily", "Palermo", "Catania", "km"),
               ("GEODIST", "Sicily", "Palermo", "Catania", "MI"), ("GEODIST", "Sicily", "Palermo", "Catania", "ft"),
               ("GEODIST", "Sicily", "Palermo", "nope"), ("GEODIST", "nokey", "a", "b"),
               ("GEODIST", "Sicily", "Palermo", "Palermo")) == [
        b"$11\r\n166274.1516\r\n", b"$8\r\n166.2742\r\n", b"$8\r\n103.3182\r\n", b"$11\r\n545518.8700\r\n",
        b"$-1\r\n", b"$-1\r\n", b"$6\r\n0.0000\r\n"]
    r = sicily
    assert err(r.execute_command, "GEODIST", "Sicily", "Palermo", "Catania", "parsec") == \
        "unsupported unit provided. please use M, KM, FT, MI"
    assert err(r.execute_command, "GEODIST", "Sicily", "a", "b", "km", "x") == "syntax error"


def test_geohash(sicily, server):
    assert raw(server, ("GEOHASH", "Sicily", "Palermo", "Catania", "nope"), ("GEOHASH", "nokey", "a")) == [
        b"*3\r\n$11\r\nsqc8b49rny0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n", b"*1\r\n$-1\r\n"]


def test_georadius(sicily):
    r = sicily
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD",
                             "WITHHASH", "ASC") == [
        [b"Catania", b"56.4413", 3479447370796909, [b"15.08726745843887329", b"37.50266842333162032"]],
        [b"Palermo", b"190.4424", 3479099956230698, [b"13.36138933897018433", b"38.11555639549629859"]]]
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "200", "km") == [b"Palermo", b"Catania"]
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC") == [b"Palermo", b"Catania"]
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "100", "km") == [b"Catania"]
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1") == [b"Catania"]
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "ANY") == [b"Palermo"]
    assert r.execute_command("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST") == [
        [b"Palermo", b"0.0000"], [b"Catania", b"166.2742"]]
    assert r.execute_command("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "ASC") == [b"Catania", b"Palermo"]
    assert r.execute_command("GEORADIUSBYMEMBER_RO", "nokey", "x", "1", "km") == []


def test_georadius_store(sicily):
    r = sicily
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst") == 2
    assert r.zrange("dst", 0, -1, withscores=True) == [(b"Palermo", 3479099956230698), (b"Catania", 3479447370796909)]
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst") == 2
    assert [m for m, _ in r.zrange("dst", 0, -1, withscores=True)] == [b"Catania", b"Palermo"]
    assert r.zscore("dst", "Catania") == pytest.approx(56.4413, abs=1e-4)
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "1", "m", "STORE", "dst") == 0
    assert r.exists("dst") == 0
    assert err(r.execute_command, "GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "x", "WITHDIST") == \
        "STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    assert err(r.execute_command, "GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x") == "syntax error"


def test_geosearch(sicily):
    r = sicily
    assert r.execute_command("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km",
                             "ASC", "WITHDIST") == [[b"Catania", b"56.4413"], [b"Palermo", b"190.4424"]]
    assert r.execute_command("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "100", "km") == [
        b"Palermo"]
    assert r.execute_command("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km",
                             "COUNT", "1", "ANY") == [b"Palermo"]
    assert r.execute_command("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "m") == []
    assert r.execute_command("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200",
                             "km", "STOREDIST", "COUNT", "1") == 1
    assert r.zrange("dst", 0, -1) == [b"Catania"]
    assert r.execute_command("GEOSEARCHSTORE", "dst", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km") == 0
    assert r.exists("dst") == 0


def test_geosearch_errors(sicily):
    r = sicily

    def gs(*args):
        return r.execute_command("GEOSEARCH", "Sicily", *args)

    assert err(gs, "FROMMEMBER", "nope", "BYRADIUS", "1", "km") == "could not decode requested zset member"
    assert err(gs, "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "ANY") == \
        "the ANY argument requires COUNT argument"
    assert err(gs, "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "COUNT", "0") == "COUNT must be > 0"
    assert err(gs, "FROMLONLAT", "15", "37", "BYRADIUS", "-1", "km") == "radius cannot be negative"
    assert err(gs, "FROMLONLAT", "15", "37", "BYRADIUS", "x", "km") == "need numeric radius"
    assert err(gs, "FROMLONLAT", "15", "37", "BYBOX", "x", "1", "km") == "need numeric width"
    assert err(gs, "FROMLONLAT", "15", "37", "BYBOX", "1", "x", "km") == "need numeric height"
    assert err(gs, "FROMLONLAT", "15", "37", "BYBOX", "1", "-1", "km") == "height or width cannot be negative"
    assert err(gs, "FROMLONLAT", "15", "37", "BYRADIUS", "1", "au") == \
        "unsupported unit provided. please use M, KM, FT, MI"
    assert err(gs, "FROMLONLAT", "181", "37", "BYRADIUS", "1", "km") == \
        "invalid longitude,latitude pair 181.000000,37.000000"
    assert err(gs, "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km") == "syntax error"
    assert err(gs, "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km") == "syntax error"
    assert err(gs, "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km", "STORE", "x") == "syntax error"
    assert err(gs, "FROMLONLAT", "1", "1", "WITHDIST", "WITHHASH") == \
        "exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"
    assert err(r.execute_command, "geosearch", "Sicily", "BYRADIUS", "1", "km", "ASC", "WITHDIST") == \
        "exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch"
    assert err(r.execute_command, "GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km",
               "WITHDIST") == "GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    r.set("str", "x")
    assert err(r.execute_command, "GEOSEARCH", "str", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km").startswith(
        "WRONGTYPE")


def test_geo_resp3(sicily, server):
    assert raw(server, ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "ASC",
                        "COUNT", "1"), resp=3) == [
        b"*1\r\n*3\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n"]


def test_search_across_the_antimeridian(r):
    # the nine scanned cells wrap around at +-180 degrees (checked against redis-server)
    r.execute_command("GEOADD", "g", "179.9", "10", "east", "-179.9", "10", "west", "0", "84.9", "north1",
                      "180", "84.9", "north2")
    assert r.execute_command("GEOSEARCH", "g", "FROMLONLAT", "179.95", "10", "BYRADIUS", "50", "km") == [
        b"east", b"west"]
    assert r.execute_command("GEOSEARCH", "g", "FROMLONLAT", "-179.95", "10", "BYRADIUS", "50", "km") == [
        b"west", b"east"]
    assert r.execute_command("GEOSEARCH", "g", "FROMLONLAT", "180", "10", "BYRADIUS", "50", "km") == [b"east"]
    assert r.execute_command("GEOSEARCH", "g", "FROMMEMBER", "north1", "BYRADIUS", "1500", "km") == [b"north1"]
