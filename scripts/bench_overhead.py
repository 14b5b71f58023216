"""Our service (service + runner, no diarization) vs plain faster-whisper in-process,
and what diarization adds on top.

Same file, same model (base, int8, beam 5), measured side by side in one run; the service
is warmed up first so model loading is not counted on either side. Target: ratio ≤ 1.15.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx
from bench_common import Served, camara_excerpts


def plain(path: Path, model_path: Path, repeats: int) -> list[float]:
    from faster_whisper import WhisperModel

    from transcrevai.asr import pick_compute

    device, compute = pick_compute("auto", "auto")
    model = WhisperModel(str(model_path), device=device, compute_type=compute)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        segs, _ = model.transcribe(str(path), language="pt", beam_size=5, word_timestamps=True)
        list(segs)
        times.append(time.perf_counter() - t)
    return times


def served(path: Path, url: str, repeats: int, diarize: bool = False) -> list[float]:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        with open(path, "rb") as fh:
            r = httpx.post(
                url + "/transcribe",
                files={"file": (path.name, fh)},
                data={"language": "pt", "diarize": str(diarize).lower()},
                timeout=3600,
            )
        r.raise_for_status()
        times.append(time.perf_counter() - t)
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
    with Served({"WHISPER_MODEL": "base"}) as srv:
        served(path, srv.url, 1, diarize=True)  # warm-up: both runners' models
        ours, diar, theirs = [], [], []
        for _ in range(args.repeats):  # interleaved, so drift hits all three alike
            theirs += plain(path, resolved.path, 1)
            ours += served(path, srv.url, 1)
            diar += served(path, srv.url, 1, diarize=True)
    o, p, d = min(ours), min(theirs), min(diar)
    print(f"plain faster-whisper transcribe : {p:6.1f} s  ({args.seconds / p:4.1f}× real time)")
    print(f"TranscrevAI service (/transcribe): {o:6.1f} s  ({args.seconds / o:4.1f}× real time)")
    print(f"TranscrevAI + diarization        : {d:6.1f} s  ({args.seconds / d:4.1f}× real time)")
    print(
        f"time ratio ours/plain: {o / p:.2f} (target ≤ 1.15), {args.seconds:.0f} s of plenary audio"
    )
    print(
        f"diarization adds {100 * (d - o) / d:.0f} % of the transcribe+diarize time (target ≤ 15 %)"
    )


if __name__ == "__main__":
    main()
