"""Adaptive batching vs no batching: N concurrent ~30 s requests through the real service.

Both configurations run in this one invocation, one after the other, on the same files, so
the ratio is comparable on a shared, noisy machine. Target on 2 CPU cores: ≥ 1.3× throughput.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import tempfile
import time
from pathlib import Path

import httpx
from bench_common import Served, camara_excerpts, pct


def run(url: str, files: list[Path], concurrency: int) -> tuple[float, list[float], dict]:
    def one(p: Path) -> float:
        t = time.perf_counter()
        with open(p, "rb") as fh:
            r = httpx.post(
                url + "/transcribe",
                files={"file": (p.name, fh)},
                data={"language": "pt"},
                timeout=3600,
            )
        r.raise_for_status()
        return time.perf_counter() - t

    start = time.perf_counter()
    with cf.ThreadPoolExecutor(concurrency) as pool:
        lat = list(pool.map(one, files))
    wall = time.perf_counter() - start
    status = httpx.get(url + "/status", timeout=30).json()["whisper"]
    return wall, lat, status.get("batch_sizes", {})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=16, help="concurrent requests")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--model", default="base")
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-batching-"))
    files = camara_excerpts(args.n, args.seconds, tmp)
    audio_s = len(files) * args.seconds
    rows = {}
    for label, batch in (("batched", args.batch), ("unbatched", 1)):
        env = {"WHISPER_MODEL": args.model, "WHISPER_MAX_BATCH_SIZE": str(batch)}
        with Served(env) as srv:
            run(srv.url, files[:1], 1)  # warm-up: model load
            wall, lat, sizes = run(srv.url, files, args.n)
        rows[label] = (wall, lat, sizes)
        print(
            f"{label:10s} max_batch_size={batch}: wall {wall:7.1f} s  "
            f"throughput {audio_s / wall:5.2f}× real time  p50 {pct(lat, 50):6.1f} s  "
            f"p95 {pct(lat, 95):6.1f} s  batch sizes {sizes}",
            flush=True,
        )
    ratio = rows["unbatched"][0] / rows["batched"][0]
    print(
        f"\nthroughput ratio batched/unbatched: {ratio:.2f}× (target ≥ 1.3×) "
        f"— {args.n} requests × {args.seconds:.0f} s, model {args.model}"
    )


if __name__ == "__main__":
    main()
