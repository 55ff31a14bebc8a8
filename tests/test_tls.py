"""TLS: tls-port listeners, client certificates, protocols and ciphers, CONFIG SET reloads, TLS replication.

Every test makes its own CA and certificates (tests/tlsutil.py); clients are redis-py, redis-cli,
redis-benchmark and Python's ssl; replication is checked against a TLS redis-server both ways.
"""

from __future__ import annotations

import socket
import ssl
import subprocess

import pytest
import redis
from conftest import REDIS_SERVER, ServerProcess, free_port, wait_until
from tlsutil import make_certs, tls_args


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(str(tmp_path_factory.mktemp("tls")))


def wait_for_tls(port: int, certs, proc) -> None:
    """wait_for_port over TLS: a PING answered on the TLS port."""
    ctx = ssl.create_default_context(cafile=certs["ca"])
    ctx.load_cert_chain(certs["client"], certs["client_key"])
    ctx.check_hostname = False

    def answered() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
                with ctx.wrap_socket(raw) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(64).startswith((b"+PONG", b"-NOAUTH", b"-MASTERDOWN"))
        except (OSError, ssl.SSLError):
            return False

    wait_until(answered, timeout=20)


def tls_server(certs, auth: str = "yes", extra: list[str] | None = None) -> tuple[ServerProcess, int]:
    """A fastredis with a plain port (ServerProcess') and a TLS port; returns it and the TLS port."""
    tls_port = free_port()
    srv = ServerProcess(args=["--tls-port", str(tls_port), *tls_args(certs, auth), *(extra or [])], wait=False)
    wait_for_tls(tls_port, certs, srv.proc)
    return srv, tls_port


def client(port: int, certs, cert: bool = True, **kw) -> redis.Redis:
    extra = {"ssl_certfile": certs["client"], "ssl_keyfile": certs["client_key"]} if cert else {}
    return redis.Redis(port=port, ssl=True, ssl_ca_certs=certs["ca"], socket_timeout=10, protocol=2, **extra, **kw)


def cli(port: int, certs, *args: str, cert: bool = True) -> subprocess.CompletedProcess:
    extra = ["--cert", certs["client"], "--key", certs["client_key"]] if cert else []
    return subprocess.run(["redis-cli", "-p", str(port), "--tls", "--cacert", certs["ca"], *extra, *args],
                          capture_output=True, text=True, timeout=30)


def test_tls_port_beside_plain_port(certs):
    srv, tls_port = tls_server(certs)
    try:
        c = client(tls_port, certs)
        assert c.set("k", "v") and c.get("k") == b"v"
        assert srv.client().get("k") == b"v"  # the plain port works beside it
        assert cli(tls_port, certs, "GET", "k").stdout == "v\n"
        assert cli(tls_port, certs, "INCR", "n").stdout == "1\n"
        # tls-auth-clients yes: no client certificate, no connection
        with pytest.raises(redis.ConnectionError):
            client(tls_port, certs, cert=False).ping()
        assert "Ready to accept connections tls" in srv.log_text()
        # plain text on the TLS port is no protocol the server answers
        s = socket.create_connection(("127.0.0.1", tls_port), timeout=5)
        s.sendall(b"PING\r\n")
        try:
            data = s.recv(100)
        except (TimeoutError, ConnectionResetError):
            data = b""
        assert b"PONG" not in data
        s.close()
        c.close()
    finally:
        srv.stop()


def test_tls_only_with_port_zero_and_optional_auth(certs):
    # ServerProcess always passes --port: the later "--port 0" wins
    tls_port = free_port()
    srv = ServerProcess(args=["--tls-port", str(tls_port), *tls_args(certs, "optional"), "--port", "0"], wait=False)
    try:
        wait_for_tls(tls_port, certs, srv.proc)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=2)
        for cert in (True, False):
            c = client(tls_port, certs, cert=cert)
            assert c.ping() is True
            c.close()
        assert cli(tls_port, certs, "PING", cert=False).stdout == "PONG\n"
        log = srv.log_text()
        assert "Ready to accept connections tls" in log and "Ready to accept connections tcp" not in log
    finally:
        srv.stop()


def test_auth_clients_no_and_redis_benchmark(certs):
    srv, tls_port = tls_server(certs, auth="no")
    try:
        c = client(tls_port, certs, cert=False)
        assert c.ping() is True
        out = subprocess.run(["redis-benchmark", "-p", str(tls_port), "--tls", "--cacert", certs["ca"], "-n", "2000",
                              "-P", "16", "-t", "set,get", "-q"], capture_output=True, text=True, timeout=60)
        assert out.stdout.count("requests per second") == 2, out.stdout + out.stderr
        assert c.dbsize() == 1
        c.close()
    finally:
        srv.stop()


def test_protocols_ciphers_and_key_password(certs):
    srv, tls_port = tls_server(certs, extra=["--tls-protocols", "TLSv1.3", "--tls-ciphersuites",
                                              "TLS_CHACHA20_POLY1305_SHA256"])
    try:
        ctx = ssl.create_default_context(cafile=certs["ca"])
        ctx.load_cert_chain(certs["client"], certs["client_key"])
        with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                assert s.version() == "TLSv1.3"
                assert s.cipher()[0] == "TLS_CHACHA20_POLY1305_SHA256"
                s.sendall(b"PING\r\n")
                assert s.recv(100) == b"+PONG\r\n"
        ctx12 = ssl.create_default_context(cafile=certs["ca"])
        ctx12.load_cert_chain(certs["client"], certs["client_key"])
        ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw:
            with pytest.raises((ssl.SSLError, ConnectionResetError)):
                ctx12.wrap_socket(raw, server_hostname="localhost")
    finally:
        srv.stop()
    enc = dict(certs, server_key=certs["server_enc_key"])
    srv, tls_port = tls_server(enc, extra=["--tls-key-file-pass", "secret", "--tls-protocols", "TLSv1.2",
                                           "--tls-ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"])
    try:
        c = client(tls_port, certs)
        assert c.ping() is True
        conn = c.connection_pool.get_connection()
        assert conn._sock.version() == "TLSv1.2" and conn._sock.cipher()[0] == "ECDHE-ECDSA-AES128-GCM-SHA256"
        c.connection_pool.release(conn)
        assert srv.client().config_get("tls-key-file-pass") == {"tls-key-file-pass": "secret"}
        c.close()
    finally:
        srv.stop()


@pytest.mark.parametrize("bad", [["--tls-protocols", "TLSv9"], ["--tls-cert-file", "/nonexistent.crt"],
                                 ["--tls-ciphers", "NOSUCHCIPHER"]])
def test_bad_tls_config_exits(certs, bad):
    tls_port = free_port()
    srv = ServerProcess(args=["--tls-port", str(tls_port), *tls_args(certs), *bad], wait=False)
    assert srv.proc.wait(20) == 1
    assert "Failed to configure TLS. Check logs for more info." in srv.log_text()
    srv.stop()


def test_config_set_reloads_certificates(certs, tmp_path):
    other = make_certs(str(tmp_path / "other"), ca_name="another CA")
    srv, tls_port = tls_server(certs)
    real = ServerProcess(cmd=[REDIS_SERVER], args=["--tls-port", str(free_port()), *tls_args(certs)])
    try:
        admin = srv.client()
        old = client(tls_port, certs)
        assert old.ping()
        err_args = ("tls-cert-file", "/nonexistent.crt")
        with pytest.raises(redis.ResponseError) as ours:
            admin.config_set(*err_args)
        with pytest.raises(redis.ResponseError) as theirs:
            real.client().config_set(*err_args)
        assert str(ours.value) == str(theirs.value)
        assert client(tls_port, certs).ping()  # the old certificate still serves
        assert admin.config_get("tls-cert-file")["tls-cert-file"] == certs["server"]
        # the new CA signs the server and (as tls-ca-cert-file) the clients from now on
        admin.execute_command("CONFIG", "SET", "tls-cert-file", other["server"], "tls-key-file", other["server_key"],
                              "tls-ca-cert-file", other["ca"])

        def new_cert_served() -> bool:
            try:
                return client(tls_port, other).ping()
            except redis.ConnectionError:
                return False

        wait_until(new_cert_served)
        with pytest.raises(redis.ConnectionError):
            client(tls_port, certs).ping()
        assert old.get("x") is None  # the open connection keeps going
        old.close()
    finally:
        srv.stop()
        real.stop()


def _wait_synced(replica: redis.Redis, key: str, value: bytes) -> None:
    wait_until(lambda: replica.get(key) == value, timeout=30)


def test_tls_replication_fastredis_and_redis(certs):
    """fastredis master -> fastredis replica, redis-server master -> fastredis replica, all over TLS."""
    master, m_tls = tls_server(certs)
    rep = real_master = rep2 = None
    try:
        m = master.client()
        m.set("a", "1")
        rep, _ = tls_server(certs, extra=["--tls-replication", "yes", "--replicaof", "127.0.0.1", str(m_tls)])
        rc = rep.client()
        _wait_synced(rc, "a", b"1")
        m.set("b", "2")
        _wait_synced(rc, "b", b"2")
        assert rc.info("replication")["master_link_status"] == "up"
        # (a redis-server 7.0 replica of fastredis can't load 7.2's RDB v11: only the other way round here)
        rm_tls = free_port()
        real_master = ServerProcess(cmd=[REDIS_SERVER], args=["--tls-port", str(rm_tls), *tls_args(certs)])
        real_master.client().set("from-redis", "yes")
        rep2, _ = tls_server(certs, extra=["--tls-replication", "yes", "--replicaof", "127.0.0.1", str(rm_tls)])
        _wait_synced(rep2.client(), "from-redis", b"yes")
        real_master.client().set("later", "1")
        _wait_synced(rep2.client(), "later", b"1")
    finally:
        for s in (rep, real_master, rep2, master):
            if s is not None:
                s.stop()
