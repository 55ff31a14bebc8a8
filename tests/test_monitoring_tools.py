"""Monitoring made for Redis works on fastredis: Prometheus' redis_exporter and redis-cli's scanners."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request

import pytest
from conftest import REDIS_SERVER, ServerProcess, free_port

EXPORTER = shutil.which("prometheus-redis-exporter") or shutil.which("redis_exporter")


def scrape(redis_port: int) -> dict[str, list[str]]:
    """Run the exporter against a server once; metric name -> sample lines."""
    if EXPORTER is None:
        pytest.fail("prometheus-redis-exporter is not installed: the test command installs it")
    web = free_port()
    proc = subprocess.Popen([EXPORTER, "-redis.addr", "redis://127.0.0.1:%d" % redis_port,
                             "-web.listen-address", "127.0.0.1:%d" % web],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        text = ""
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % web, timeout=10) as f:
                    text = f.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        out: dict[str, list[str]] = {}
        for line in text.splitlines():
            if line.startswith("redis_"):
                name = line.split("{", 1)[0].split(" ", 1)[0]
                out.setdefault(name, []).append(line)
        return out
    finally:
        proc.terminate()
        proc.wait(10)


def load(c) -> None:
    c.set("a", "1", ex=100)
    c.rpush("l", *range(10))
    c.hset("h", "f", "v")
    c.config_set("slowlog-log-slower-than", 0)
    c.get("a")
    c.config_set("slowlog-log-slower-than", 10000)
    try:
        c.execute_command("NOSUCH")
    except Exception:
        pass


def test_redis_exporter_scrapes_without_errors_and_same_metric_names():
    ours = ServerProcess()
    real = ServerProcess(cmd=[REDIS_SERVER], args=["--appendonly", "no"])
    try:
        for srv in (ours, real):
            load(srv.client())
        a, b = scrape(ours.port), scrape(real.port)
        assert a["redis_up"] == ["redis_up 1"]
        assert a["redis_exporter_last_scrape_error"] == ['redis_exporter_last_scrape_error{err=""} 0']
        for name in ("redis_memory_used_bytes", "redis_commands_total", "redis_slowlog_length",
                     "redis_db_keys", "redis_latency_percentiles_usec", "redis_evicted_keys_total",
                     "redis_connected_clients", "redis_errors_total", "redis_db_avg_ttl_seconds"):
            assert name in a, name
        assert set(b) - set(a) == set()  # every metric the exporter makes of Redis 7.0 it makes of us
    finally:
        ours.stop()
        real.stop()


def test_redis_cli_scanners():
    srv = ServerProcess(args=["--maxmemory-policy", "allkeys-lfu"])
    try:
        c = srv.client()
        c.set("small", "x")
        c.set("big", "y" * 5000)
        c.rpush("biglist", *range(1000))
        for _ in range(30):
            c.get("big")
        port = str(srv.port)
        big = subprocess.run(["redis-cli", "-p", port, "--bigkeys"], capture_output=True, text=True, timeout=60)
        assert big.returncode == 0 and "Biggest string found '\"big\"' has 5000 bytes" in big.stdout
        assert "Biggest   list found '\"biglist\"' has 1000 items" in big.stdout
        mem = subprocess.run(["redis-cli", "-p", port, "--memkeys"], capture_output=True, text=True, timeout=60)
        assert mem.returncode == 0 and "Biggest string found '\"big\"' has" in mem.stdout
        hot = subprocess.run(["redis-cli", "-p", port, "--hotkeys"], capture_output=True, text=True, timeout=60)
        assert hot.returncode == 0 and "hot key found with counter" in hot.stdout and "big" in hot.stdout
        stat = subprocess.Popen(["stdbuf", "-oL", "redis-cli", "-p", port, "--stat", "-i", "0.2"], stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        stat.terminate()
        out = stat.communicate(timeout=10)[0]
        assert "------- data ------" in out and "keys       mem      clients" in out
        rows = [line.split() for line in out.splitlines() if line[:1].isdigit()]
        assert rows and rows[0][0] == "3"  # keys, then used_memory (human), clients...
        lat = subprocess.Popen(["redis-cli", "-p", port, "--latency", "--raw"], stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        lat.terminate()
        out = lat.communicate(timeout=10)[0]
        assert out.strip() and all(x.replace(".", "").isdigit() for x in out.split()[:4])
    finally:
        srv.stop()
