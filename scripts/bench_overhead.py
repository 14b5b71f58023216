"""Our service (service + runner, no diarization) vs plain faster-whisper in-process,
and what diarization adds on top.

Same file, same model (base, int8, beam 5), measured side by side in one run; the service
is warmed up first so model loading is not counted on either side. Wall time and CPU time
(this process for plain; the server's whole process tree for ours) are both reported: on a
shared machine CPU time is the steadier of the two. Targets: ratio ≤ 1.15; diarization ≤ 15 %
of the transcribe+diarize time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from bench_common import Served, camara_excerpts


def load_plain(model_path: Path) -> Any:
    from faster_whisper import WhisperModel

    from transcrevai.asr import pick_compute

    device, compute = pick_compute("auto", "auto")
    return WhisperModel(str(model_path), device=device, compute_type=compute)


def plain(path: Path, model: Any, repeats: int) -> list[tuple[float, float]]:
    times = []
    for _ in range(repeats):
        t, cpu = time.perf_counter(), time.process_time()
        segs, _ = model.transcribe(str(path), language="pt", beam_size=5, word_timestamps=True)
        list(segs)
        times.append((time.perf_counter() - t, time.process_time() - cpu))
    return times


def served(
    path: Path, srv: Served, repeats: int, diarize: bool = False
) -> list[tuple[float, float]]:
    times = []
    for _ in range(repeats):
        t, cpu = time.perf_counter(), srv.cpu_seconds()
        with open(path, "rb") as fh:
            r = httpx.post(
                srv.url + "/transcribe",
                files={"file": (path.name, fh)},
                data={"language": "pt", "diarize": str(diarize).lower()},
                timeout=3600,
            )
        r.raise_for_status()
        times.append((time.perf_counter() - t, srv.cpu_seconds() - cpu))
    return times


def main() -> None:
    from transcrevai.models import resolve_model
    from transcrevai.settings import get_settings

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    (path,) = camara_excerpts(1, args.seconds, tmp)
    resolved = resolve_model("base", get_settings().model_cache_dir)
    model = load_plain(resolved.path)  # loaded once, outside the timed runs
    with Served({"WHISPER_MODEL": "base"}) as srv:
        served(path, srv, 1, diarize=True)  # warm-up: both runners' models
        ours: list[tuple[float, float]] = []
        diar: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        for _ in range(args.repeats):  # interleaved, so drift hits all three alike
            theirs += plain(path, model, 1)
            ours += served(path, srv, 1)
            diar += served(path, srv, 1, diarize=True)
    for k, label in ((0, "wall"), (1, "CPU")):
        o, p, d = (min(x[k] for x in runs) for runs in (ours, theirs, diar))
        s = args.seconds
        print(f"[{label} time, best of {args.repeats}]")
        print(f"  plain faster-whisper transcribe : {p:6.1f} s  ({s / p:4.1f}× real time)")
        print(f"  TranscrevAI service (/transcribe): {o:6.1f} s  ({s / o:4.1f}× real time)")
        print(f"  TranscrevAI + diarization        : {d:6.1f} s  ({s / d:4.1f}× real time)")
        print(f"  time ratio ours/plain: {o / p:.2f} (target ≤ 1.15), {s:.0f} s of plenary audio")
        print(
            f"  diarization adds {100 * (d - o) / d:.0f} % of the transcribe+diarize time "
            "(target ≤ 15 %)"
        )


if __name__ == "__main__":
    main()
