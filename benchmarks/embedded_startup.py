"""Start-up time of ``fastredis.embedded()``: from the call until the handle is returned, ready.

Each round starts a server, checks it answers SET/GET, stops it. The package's modules are first
compiled to bytecode (``compileall``), as ``pip install`` does: without ``.pyc`` files every start
compiles the whole server again. Exits 1 when the median is over the target.

    python benchmarks/embedded_startup.py --rounds 20 --target-ms 200
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fastredis  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--target-ms", type=float, default=200.0)
    ap.add_argument("--concurrent", type=int, default=4, help="servers started side by side at the end")
    args = ap.parse_args()
    compileall.compile_dir(str(Path(fastredis.__file__).parent), quiet=1)
    times = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        srv = fastredis.embedded()
        times.append((time.perf_counter() - t0) * 1000)
        c = srv.client(protocol=2)
        c.set("k", "v")
        assert c.get("k") == b"v"
        c.close()
        srv.stop()
    t0 = time.perf_counter()
    many = [fastredis.embedded() for _ in range(args.concurrent)]
    several = (time.perf_counter() - t0) * 1000
    assert len({s.port for s in many}) == args.concurrent
    for s in many:
        s.stop()
    times.sort()
    median = statistics.median(times)
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print(f"embedded() start-up over {args.rounds} rounds: min {times[0]:.1f} ms, median {median:.1f} ms, "
          f"p90 {p90:.1f} ms, max {times[-1]:.1f} ms; {args.concurrent} side by side: {several:.1f} ms")
    if median > args.target_ms:
        print(f"median over the {args.target_ms:.0f} ms target")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
