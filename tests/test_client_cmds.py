"""CLIENT subcommands and MONITOR, with error replies compared to redis-server."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
import redis
from conftest import RawClient, recv_until

LINE_FIELDS = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi",
               "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events",
               "cmd", "user", "redir", "resp", "lib-name", "lib-ver"]


def fields(line: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in line.split(" "))


ERRORS = [
    ("CLIENT", "KILL", "1.2.3.4:5"),
    ("CLIENT", "KILL", "ID", "0"),
    ("CLIENT", "KILL", "ID", "abc"),
    ("CLIENT", "KILL", "TYPE", "foo"),
    ("CLIENT", "KILL", "USER", "foo"),
    ("CLIENT", "KILL", "SKIPME", "maybe"),
    ("CLIENT", "KILL", "ID", "99999"),
    ("CLIENT", "KILL", "ID", "99999", "SKIPME"),
    ("CLIENT", "KILL", "ADDR", "1:2", "LADDR", "1:2"),
    ("CLIENT", "KILL", "FOO", "bar"),
    ("CLIENT", "KILL"),
    ("CLIENT", "LIST", "TYPE", "foo"),
    ("CLIENT", "LIST", "ID", "x"),
    ("CLIENT", "LIST", "ID", "1", "foo"),
    ("CLIENT", "LIST", "FOO"),
    ("CLIENT", "REPLY", "foo"),
    ("CLIENT", "NO-EVICT", "x"),
    ("CLIENT", "UNBLOCK", "x"),
    ("CLIENT", "UNBLOCK", "5", "foo"),
    ("CLIENT", "UNBLOCK", "99999"),
    ("CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"),
    ("CLIENT", "PAUSE", "x"),
    ("CLIENT", "PAUSE", "-1"),
    ("CLIENT", "PAUSE", "10", "FOO"),
    ("CLIENT", "PAUSE", "10", "WRITE", "x"),
    ("CLIENT", "TRACKINGINFO"),
    ("CLIENT", "GETREDIR"),
    ("CLIENT", "SETNAME", "a b"),
    ("CLIENT", "SETNAME", "a\nb"),
    ("CLIENT", "NOSUCH"),
    ("CLIENT",),
    ("CLIENT", "GETNAME", "x"),
]


def test_errors_match_redis(server, real_redis):
    ours, real = RawClient(server.port), RawClient(real_redis.port)
    try:
        for cmd in ERRORS:
            a, b = ours.call(*cmd), real.call(*cmd)
            assert a == b, f"{cmd}: {a!r} != {b!r}"
    finally:
        ours.close()
        real.close()


def test_help_matches_redis_prefix(server, real_redis):
    ours, real = RawClient(server.port), RawClient(real_redis.port)
    try:
        a = ours.call("CLIENT", "HELP").split(b"\r\n")
        b = real.call("CLIENT", "HELP").split(b"\r\n")
        assert a[1:14] == b[1:14]
        assert b"+SETINFO <option> <value>" in a and b"+NO-TOUCH (ON|OFF)" in a
    finally:
        ours.close()
        real.close()


def test_id_name(r):
    cid = r.client_id()
    assert isinstance(cid, int) and cid > 0
    assert r.client_getname() is None
    assert r.client_setname("worker-1") is True
    assert r.client_getname() in ("worker-1", b"worker-1")
    assert r.client_setname("") is True
    assert r.client_getname() is None


def test_setinfo(r):
    assert r.execute_command("CLIENT", "SETINFO", "LIB-NAME", "mylib") == b"OK"
    assert r.execute_command("CLIENT", "SETINFO", "lib-ver", "1.2") == b"OK"
    info = fields(r.execute_command("CLIENT", "INFO").decode().strip())
    assert info["lib-name"] == "mylib" and info["lib-ver"] == "1.2"
    with pytest.raises(redis.ResponseError, match="^Unrecognized option 'foo'$"):
        r.execute_command("CLIENT", "SETINFO", "foo", "x")
    with pytest.raises(redis.ResponseError, match="^lib-name cannot contain spaces, newlines or special characters.$"):
        r.execute_command("CLIENT", "SETINFO", "lib-name", "a b")


def test_info_and_list_format(server):
    c = RawClient(server.port)
    try:
        c.call("CLIENT", "SETNAME", "fmt")
        raw = c.call("CLIENT", "INFO")
        text = raw.split(b"\r\n", 1)[1][:-2].decode()
        assert text.endswith("\n") and text.count("\n") == 1
        f = fields(text.strip())
        assert list(f) == LINE_FIELDS
        assert f["name"] == "fmt" and f["flags"] == "N" and f["db"] == "0" and f["multi"] == "-1"
        assert f["cmd"] == "client|info" and f["user"] == "default" and f["resp"] == "2"
        assert re.fullmatch(r"127\.0\.0\.1:\d+", f["addr"]) and f["laddr"] == f"127.0.0.1:{server.port}"
        lst = c.call("CLIENT", "LIST").split(b"\r\n", 1)[1][:-2].decode()
        lines = [fields(x) for x in lst.strip().split("\n")]
        mine = [x for x in lines if x["name"] == "fmt"]
        assert len(mine) == 1 and mine[0]["cmd"] == "client|list"
        only = c.call("CLIENT", "LIST", "ID", f["id"], "999999").split(b"\r\n", 1)[1][:-2].decode()
        assert only.count("\n") == 1 and fields(only.strip())["id"] == f["id"]
    finally:
        c.close()


def test_list_resp3_verbatim(server):
    c = RawClient(server.port, 3)
    try:
        assert c.call("CLIENT", "INFO").startswith(b"=")
        assert c.call("CLIENT", "LIST").startswith(b"=")
    finally:
        c.close()


def test_list_type_and_flags(server):
    a = server.client()
    p = a.pubsub()
    p.subscribe("flagchan")
    p.get_message(timeout=10)
    b = server.client()
    try:
        b.execute_command("CLIENT", "NO-EVICT", "on")
        b.execute_command("CLIENT", "NO-TOUCH", "on")
        me = fields(b.execute_command("CLIENT", "INFO").decode().strip())
        assert me["flags"] == "eT"
        pubsub = b.client_list(_type="pubsub")
        assert any(x["flags"] == "P" and x["sub"] == "1" for x in pubsub)
        assert all(x["flags"] != "P" for x in b.client_list(_type="normal"))
        assert b.client_list(_type="master") == []
        assert b.client_list(_type="replica") == []
        b.execute_command("CLIENT", "NO-EVICT", "off")
        b.execute_command("CLIENT", "NO-TOUCH", "off")
        assert fields(b.execute_command("CLIENT", "INFO").decode().strip())["flags"] == "N"
        pipe = b.pipeline(transaction=False)
        pipe.execute_command("MULTI")
        pipe.execute_command("SET", "x", "1")
        pipe.execute_command("CLIENT", "INFO")
        pipe.execute_command("DISCARD")
        pipe.execute()
        me = fields(b.execute_command("CLIENT", "INFO").decode().strip())
        assert me["multi"] == "-1"
    finally:
        p.close()
        a.close()
        b.close()


def test_multi_shown_in_list(server):
    c = RawClient(server.port)
    other = server.client()
    try:
        cid = int(c.call("CLIENT", "ID")[1:-2])
        c.call("MULTI")
        c.call("SET", "a", "1")
        line = [x for x in other.client_list() if int(x["id"]) == cid][0]
        assert line["flags"] == "x" and line["multi"] == "1"
        c.call("DISCARD")
    finally:
        c.close()
        other.close()


def test_kill_forms(server):
    victim = RawClient(server.port)
    killer = server.client()
    try:
        vid = int(victim.call("CLIENT", "ID")[1:-2])
        addr = [x["addr"] for x in killer.client_list() if int(x["id"]) == vid][0]
        assert killer.execute_command("CLIENT", "KILL", addr) == b"OK"
        with pytest.raises(ConnectionError):
            victim.call("PING")
        v2 = RawClient(server.port)
        v2id = int(v2.call("CLIENT", "ID")[1:-2])
        assert killer.execute_command("CLIENT", "KILL", "ID", str(v2id)) == 1
        assert killer.execute_command("CLIENT", "KILL", "ID", str(v2id)) == 0
        v3 = RawClient(server.port)
        v3.call("CLIENT", "SETNAME", "v3")
        # SKIPME defaults to yes: killing my own id does nothing
        myid = killer.client_id()
        assert killer.execute_command("CLIENT", "KILL", "ID", str(myid)) == 0
        n = killer.execute_command("CLIENT", "KILL", "USER", "default", "TYPE", "normal")
        assert n >= 1
        with pytest.raises(ConnectionError):
            v3.call("PING")
        assert killer.ping()
        # SKIPME no on myself: the reply arrives, then the connection closes
        raw = RawClient(server.port)
        rid = int(raw.call("CLIENT", "ID")[1:-2])
        assert raw.call("CLIENT", "KILL", "ID", str(rid), "SKIPME", "no") == b":1\r\n"
        with pytest.raises(ConnectionError):
            raw.call("PING")
        old = RawClient(server.port)
        time.sleep(1.1)
        young = RawClient(server.port)
        assert killer.execute_command("CLIENT", "KILL", "MAXAGE", "1", "LADDR", f"127.0.0.1:{server.port}") >= 1
        with pytest.raises(ConnectionError):
            old.call("PING")
        assert young.call("PING") == b"+PONG\r\n"
        young.close()
    finally:
        killer.close()


def test_pause_write_and_unpause(server):
    pauser = server.client()
    writer = server.client()
    reader = server.client()
    try:
        writer.set("pw", "0")
        assert pauser.client_pause(10000, all=False) is True
        t0 = time.time()
        # reads go on
        assert reader.get("pw") == b"0"
        done = threading.Event()

        def write() -> None:
            writer.set("pw", "1")
            done.set()

        th = threading.Thread(target=write)
        th.start()
        assert not done.wait(0.5)
        assert pauser.client_unpause() in (True, b"OK")
        assert done.wait(5)
        th.join()
        assert time.time() - t0 < 5
        assert reader.get("pw") == b"1"
    finally:
        pauser.client_unpause()
        for c in (pauser, writer, reader):
            c.close()


def test_pause_all_times_out(server):
    pauser = server.client()
    other = server.client()
    try:
        other.ping()
        t0 = time.monotonic()  # before the pause starts: the held GET answers 300 ms after, however slow the run
        assert pauser.client_pause(300) is True
        assert other.get("nokey") is None
        assert time.monotonic() - t0 >= 0.3
    finally:
        pauser.client_unpause()
        pauser.close()
        other.close()


def test_reply_modes(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        s.sendall(b"CLIENT REPLY OFF\r\nSET a 1\r\nGET a\r\nCLIENT REPLY ON\r\nGET a\r\n")
        assert recv_until(s, b"$1\r\n1\r\n") == b"+OK\r\n$1\r\n1\r\n"
        s.sendall(b"CLIENT REPLY SKIP\r\nGET a\r\nECHO hi\r\n")
        assert recv_until(s, b"$2\r\nhi\r\n") == b"$2\r\nhi\r\n"
    finally:
        s.close()


def test_unblock(server):
    blocker = RawClient(server.port)
    admin = server.client()
    try:
        bid = int(blocker.call("CLIENT", "ID")[1:-2])
        blocker.sock.sendall(b"*3\r\n$5\r\nBLPOP\r\n$6\r\nnolist\r\n$1\r\n0\r\n")
        deadline = time.time() + 15
        while time.time() < deadline and admin.info("clients")["blocked_clients"] < 1:
            time.sleep(0.02)
        line = [x for x in admin.client_list() if int(x["id"]) == bid][0]
        assert line["flags"] == "b"
        assert admin.client_unblock(bid) == 1
        assert blocker.read_reply() == b"*-1\r\n"
        assert admin.client_unblock(bid) == 0
        blocker.sock.sendall(b"*3\r\n$5\r\nBLPOP\r\n$6\r\nnolist\r\n$1\r\n0\r\n")
        while time.time() < deadline and admin.info("clients")["blocked_clients"] < 1:
            time.sleep(0.02)
        assert admin.client_unblock(bid, error=True) == 1
        assert blocker.read_reply() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
        assert blocker.call("PING") == b"+PONG\r\n"
    finally:
        blocker.close()
        admin.close()


def test_trackinginfo_and_getredir(r, r3):
    assert r.execute_command("CLIENT", "GETREDIR") == -1
    assert r.execute_command("CLIENT", "TRACKINGINFO") == [b"flags", [b"off"], b"redirect", -1, b"prefixes", []]
    got = r3.execute_command("CLIENT", "TRACKINGINFO")
    assert got[b"redirect"] == -1 and list(got[b"flags"]) == [b"off"]


def _monitor_lines(port: int, payload: bytes, last: bytes) -> list[str]:
    """What MONITOR shows while another connection sends ``payload``: ``[db] "args"`` without time and address."""
    mon = socket.create_connection(("127.0.0.1", port), timeout=5)
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        mon.sendall(b"MONITOR\r\n")
        assert recv_until(mon, b"+OK\r\n") == b"+OK\r\n"
        c.sendall(payload)
        data = recv_until(mon, last + b"\r\n")
        return [re.sub(r"^\+\d+\.\d{6} \[(\d+) [^\]]+\] ", r"[\1] ", line)
                for line in data.decode().split("\r\n") if line]
    finally:
        mon.close()
        c.close()


def test_monitor_shows_transaction_commands_like_redis(server, real_redis):
    """Redis 7 feeds MONITOR after a command ran: the queued commands, then EXEC, with their db."""
    payload = (b"MULTI\r\nSET mtx 1\r\nSELECT 3\r\nGET mtx\r\nEXEC\r\n"
               b"MULTI\r\nINCR mtx\r\nDISCARD\r\nSELECT 0\r\nDEL mtx\r\nECHO done\r\n")
    ours = _monitor_lines(server.port, payload, b'"ECHO" "done"')
    real = _monitor_lines(real_redis.port, payload, b'"ECHO" "done"')
    assert ours == real
    assert ours[:5] == ['[0] "MULTI"', '[0] "SET" "mtx" "1"', '[3] "SELECT" "3"', '[3] "GET" "mtx"', '[3] "EXEC"']


def test_monitor(server):
    mon = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    c = server.client()
    c.ping()  # the connection handshake (CLIENT SETINFO) happens before MONITOR starts
    try:
        mon.sendall(b"MONITOR\r\n")
        assert recv_until(mon, b"+OK\r\n") == b"+OK\r\n"
        c.set("monkey", "v a\"l")
        c.execute_command("SELECT", "2")
        c.get("x")
        data = recv_until(mon, b'"GET" "x"\r\n')
        lines = data.decode().split("\r\n")
        assert re.fullmatch(r'\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "set" "monkey" "v a\\"l"', lines[0],
                            re.IGNORECASE), lines[0]
        assert lines[-2].startswith("+") and '[2 127.0.0.1:' in lines[-2]
        # admin commands are not shown
        c.config_get("timeout")
        c.echo("after")
        data = recv_until(mon, b'"after"\r\n')
        assert b"CONFIG" not in data.upper()
        info = [x for x in c.client_list() if x["flags"] == "O"]
        assert len(info) == 1
    finally:
        mon.close()
        c.close()
