"""SLOWLOG, LATENCY (monitor, histograms, INFO latencystats) and LOLWUT, against redis-server where deterministic."""

from __future__ import annotations

import time

import pytest
import redis
from conftest import REDIS_SERVER, RawClient, ServerProcess

from fastredis.observe import Histogram


@pytest.fixture(scope="module")
def pair():
    """fastredis and redis-server, both with DEBUG enabled (DEBUG SLEEP makes latency events)."""
    a = ServerProcess(args=["--enable-debug-command", "yes"])
    b = ServerProcess(cmd=[REDIS_SERVER], args=["--appendonly", "no", "--enable-debug-command", "yes"])
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
def both(pair):
    clients = []
    for srv in pair:
        c = srv.client()
        c.flushall()
        c.config_set("slowlog-log-slower-than", 10000)
        c.config_set("slowlog-max-len", 128)
        c.config_set("latency-monitor-threshold", 0)
        c.config_set("latency-tracking", "yes")
        c.config_set("latency-tracking-info-percentiles", "50 99 99.9")
        c.slowlog_reset()
        c.execute_command("LATENCY", "RESET")
        c.config_resetstat()
        clients.append(c)
    yield clients
    for c in clients:
        c.close()


def pairs(flat: list) -> dict:
    """A RESP2 map (flat array) as a dict."""
    return dict(zip(flat[::2], flat[1::2]))


def raw_both(pair, *args: str) -> tuple[bytes, bytes]:
    out = []
    for srv in pair:
        rc = RawClient(srv.port)
        out.append(rc.call(*args))
        rc.close()
    return out[0], out[1]


SAME = [
    ("SLOWLOG", "HELP"), ("SLOWLOG", "GET", "1", "2"), ("SLOWLOG", "GET", "-2"), ("SLOWLOG", "GET", "x"),
    ("SLOWLOG", "NOSUCH"), ("SLOWLOG", "LEN", "3"), ("SLOWLOG",), ("SLOWLOG", "RESET"), ("SLOWLOG", "LEN"),
    ("LATENCY", "HELP"), ("LATENCY", "NOSUCH"), ("LATENCY", "HISTORY"), ("LATENCY", "HISTORY", "nosuch"),
    ("LATENCY", "GRAPH", "nosuch"), ("LATENCY", "LATEST"), ("LATENCY", "RESET"), ("LATENCY", "RESET", "a", "b"),
    ("LATENCY", "DOCTOR"), ("LATENCY", "HISTOGRAM", "nosuch"), ("LATENCY", "LATEST", "x"),
    ("LOLWUT", "VERSION", "x"), ("LOLWUT", "VERSION", "5", "x"), ("LOLWUT", "VERSION", "6", "10", "y"),
]


@pytest.mark.parametrize("cmd", SAME, ids=[" ".join(c) for c in SAME])
def test_same_reply_as_redis(pair, both, cmd):
    ours, theirs = raw_both(pair, *cmd)
    assert ours == theirs


def test_slowlog_entries(both):
    for c in both:
        c.config_set("slowlog-log-slower-than", 0)
        c.client_setname("obs")
        c.set("k", "v")
        c.get("k")
        long = "x" * 200
        c.execute_command("RPUSH", "l", *[str(i) for i in range(40)])
        c.execute_command("SET", "big", long)
        c.config_set("slowlog-log-slower-than", 10000)
    shapes = []
    for c in both:
        entries = c.execute_command("SLOWLOG", "GET", "-1")
        # newest first: SET big, RPUSH, GET, SET, CLIENT SETNAME, CONFIG SET (the last CONFIG SET is
        # measured against the threshold it set)
        args = [e[3] for e in entries]
        assert args[0] == [b"SET", b"big", b"x" * 128 + b"... (72 more bytes)"]
        rp = args[1]
        assert len(rp) == 32 and rp[0] == b"RPUSH" and rp[1] == b"l" and rp[-1] == b"... (11 more arguments)"
        assert args[2] == [b"GET", b"k"] and args[3] == [b"SET", b"k", b"v"]
        ids = [e[0] for e in entries]
        assert ids == list(range(ids[0], ids[0] - len(ids), -1))  # ids survive SLOWLOG RESET
        for e in entries:
            assert abs(e[1] - time.time()) < 60 and e[2] >= 0
            assert e[4].startswith(b"127.0.0.1:")
        assert entries[0][5] == b"obs" and entries[-1][5] == b""
        shapes.append([a[0].lower() for a in args])
        assert c.execute_command("SLOWLOG", "LEN") == len(entries)
        assert len(c.execute_command("SLOWLOG", "GET")) == min(10, len(entries))
        assert len(c.execute_command("SLOWLOG", "GET", "2")) == 2
        assert c.execute_command("SLOWLOG", "RESET") == b"OK"
        assert c.execute_command("SLOWLOG", "LEN") == 0
    assert shapes[0] == shapes[1]


def test_slowlog_pipeline_native_and_max_len(both):
    """Commands run by the request loop's native handlers are logged too; the log keeps max-len entries."""
    for c in both:
        c.config_set("slowlog-max-len", 5)
        c.config_set("slowlog-log-slower-than", 0)
        p = c.pipeline(transaction=False)
        for i in range(20):
            p.incr("n")
            p.lpush("q", i)
        p.execute()
        c.config_set("slowlog-log-slower-than", -1)
        entries = c.execute_command("SLOWLOG", "GET", "-1")
        assert len(entries) == 5
        # the CONFIG SET to -1 is measured against -1: not logged
        assert [e[3][0].upper() for e in entries] == [b"LPUSH", b"INCRBY", b"LPUSH", b"INCRBY", b"LPUSH"]
        assert [e[0] for e in entries] == list(range(entries[0][0], entries[0][0] - 5, -1))
        c.config_set("slowlog-max-len", 128)
        c.get("n")
        assert c.execute_command("SLOWLOG", "LEN") == 5  # disabled (-1): nothing logged


def test_slowlog_threshold(both):
    ours, real = both
    for c in both:
        c.config_set("slowlog-log-slower-than", 20000)
        c.set("fast", "1")
        c.execute_command("DEBUG", "SLEEP", "0.03")
        c.config_set("slowlog-log-slower-than", 10000)
        entries = c.execute_command("SLOWLOG", "GET")
        assert len(entries) == 1
        assert entries[0][3] == [b"DEBUG", b"SLEEP", b"0.03"] and entries[0][2] >= 20000


def test_latency_monitor(both):
    for c in both:
        c.config_set("latency-monitor-threshold", 10)
        c.execute_command("DEBUG", "SLEEP", "0.02")
        c.execute_command("DEBUG", "SLEEP", "0.04")
        latest = c.execute_command("LATENCY", "LATEST")
        assert len(latest) == 1
        name, when, last, mx = latest[0]
        assert name == b"command" and abs(when - time.time()) < 60 and last >= 20 and mx >= 40
        hist = c.execute_command("LATENCY", "HISTORY", "command")
        assert 1 <= len(hist) <= 2 and hist[-1][1] >= 20
        graph = c.execute_command("LATENCY", "GRAPH", "command").decode()
        lines = graph.split("\n")
        assert lines[0].startswith("command - high ") and "(all time high " in lines[0]
        assert lines[1] == "-" * 80
        doctor = c.execute_command("LATENCY", "DOCTOR").decode()
        assert doctor.startswith("Dave, I have observed latency spikes in this Redis instance.")
        assert "1. command: " in doctor and "Check your Slow Log" in doctor
        assert c.execute_command("LATENCY", "RESET", "COMMAND") == 1
        assert c.execute_command("LATENCY", "LATEST") == []
        doctor = c.execute_command("LATENCY", "DOCTOR").decode()
        assert doctor.startswith("Dave, no latency spike was observed")


def test_latency_graph_same_as_redis(pair, both):
    outs = []
    for c in both:
        c.config_set("latency-monitor-threshold", 1)
        c.execute_command("DEBUG", "SLEEP", "0.01")
    for srv in pair:
        raw = raw_both(pair, "LATENCY", "GRAPH", "command")[pair.index(srv)]
        head, _, rest = raw.partition(b"\n")
        # the latency figures (high/low ms) and the "seconds ago" label may differ by timing
        outs.append([len(x) for x in rest.split(b"\n")])
    assert outs[0] == outs[1]


def test_latency_histogram_and_info(both):
    for c in both:
        for i in range(50):
            c.set("k%d" % i, i)
        c.get("k1")
        h = pairs(c.execute_command("LATENCY", "HISTOGRAM", "set", "get", "nosuch", "config"))
        assert set(h) >= {b"set", b"get", b"config|resetstat"}
        s = pairs(h[b"set"])
        assert s[b"calls"] == 50
        buckets = list(pairs(s[b"histogram_usec"]).items())
        assert buckets[-1][1] == 50
        assert all(k in (1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8455, 16911, 33823, 67647,
                         135295, 270591, 541183, 1082367) for k, _ in buckets)
        assert [v for _, v in buckets] == sorted(v for _, v in buckets)
        info = c.info("latencystats")
        assert set(info["latency_percentiles_usec_set"]) == {"p50", "p99", "p99.9"}
        c.config_set("latency-tracking-info-percentiles", "0 50 100 99.99")
        info = c.info("latencystats")
        vals = info["latency_percentiles_usec_set"]
        assert set(vals) == {"p0", "p50", "p100", "p99.99"}
        assert vals["p0"] <= vals["p50"] <= vals["p99.99"] <= vals["p100"]
        c.config_set("latency-tracking", "no")
        c.get("k1")
        c.get("k2")
        assert pairs(pairs(c.execute_command("LATENCY", "HISTOGRAM", "get"))[b"get"])[b"calls"] == 1
        c.config_set("latency-tracking", "yes")
        c.config_resetstat()
        assert b"get" not in pairs(c.execute_command("LATENCY", "HISTOGRAM"))


def test_histogram_matches_hdr():
    """The bucket values Redis' HdrHistogram (1 ns .. 1 s, 2 figures) reports for the same durations."""
    h = Histogram()
    h.record(6000)
    assert h.value_at_percentile(50) == 6015 and h.value_at_percentile(0) == 5984
    h = Histogram()
    h.record(22000)
    assert h.value_at_percentile(50) == 22015 and h.value_at_percentile(0) == 21888
    h = Histogram()
    for v in (3000, 5000, 7000, 30000):
        h.record(v)
    assert h.cdf_usec() == [(4, 1), (8, 3), (33, 4)]
    h.record(5 * 10**9)  # clamped to 1 s
    assert h.value_at_percentile(100) >= 10**9


def test_lolwut(pair, both):
    ours, real = both
    version = real.info("server")["redis_version"]
    a = ours.execute_command("LOLWUT")
    b = real.execute_command("LOLWUT")
    assert a == b"Redis ver. 7.2.4\n" and b == ("Redis ver. %s\n" % version).encode()
    assert ours.execute_command("LOLWUT", "VERSION", "7") == a
    for args in ([], ["10"], ["30", "4", "3"], ["1", "1", "1"], ["200", "1"]):
        x = ours.execute_command("LOLWUT", "VERSION", "5", *args).decode().split("\n")
        y = real.execute_command("LOLWUT", "VERSION", "5", *args).decode().split("\n")
        assert [len(line) for line in x[:-2]] == [len(line) for line in y[:-2]]
        assert x[-2] == "Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.2.4"
    for args in ([], ["20", "5"], ["1", "1"]):
        x = ours.execute_command("LOLWUT", "VERSION", "6", *args).decode().split("\n")
        y = real.execute_command("LOLWUT", "VERSION", "6", *args).decode().split("\n")
        assert [line.count("\033[0m") for line in x[:-3]] == [line.count("\033[0m") for line in y[:-3]]
        assert x[-2].startswith("Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.2.4")


def test_expire_cycle_and_commandstats_unchanged(both):
    """Recording latency does not change INFO commandstats' figures."""
    ours = both[0]
    ours.set("a", 1)
    stats = ours.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 1


def test_slow_command_inside_multi(both):
    for c in both:
        c.config_set("slowlog-log-slower-than", 0)
        p = c.pipeline(transaction=True)
        p.set("m", 1)
        p.incr("m")
        p.execute()
        c.config_set("slowlog-log-slower-than", 10000)
        names = [e[3][0].lower() for e in c.execute_command("SLOWLOG", "GET", "-1")]
        assert b"exec" not in names and b"multi" in names and b"incrby" in names


def test_script_logs_its_commands(both):
    for c in both:
        c.config_set("slowlog-log-slower-than", 0)
        c.eval("redis.call('set', KEYS[1], 'b'); return redis.call('get', KEYS[1])", 1, "sk")
        c.config_set("slowlog-log-slower-than", 10000)
        entries = c.execute_command("SLOWLOG", "GET", "-1")
        assert [e[3][0].lower() for e in entries] == [b"eval", b"get", b"set", b"config"]
        assert entries[1][4] == b"?:0" and entries[0][4].startswith(b"127.0.0.1:")


def test_client_errors_not_crash(pair):
    port = pair[0].port
    rc = RawClient(port)
    for args in (("SLOWLOG", "GET", "99999999999999999999"), ("LATENCY", "RESET", "\xff"),
                 ("LATENCY", "HISTOGRAM", "a|b|c"), ("LOLWUT", "VERSION", "-1")):
        out = rc.call(*args)
        assert out and not out.startswith(b"-ERR internal")
    for name in ("slowlog-log-slower-than", "latency-monitor-threshold"):
        assert rc.call("CONFIG", "SET", name, str(2**63 - 1)) == b"+OK\r\n"
        assert rc.call("SET", "x", "1") == b"+OK\r\n"
    assert rc.call("CONFIG", "SET", "latency-monitor-threshold", "0") == b"+OK\r\n"
    rc.close()
    assert redis.Redis(port=port).ping()
