"""Model / compute type / beam size: speed and WER side by side on the same real files.

Every configuration transcribes every file of the manifest in one run (file by file, configs
interleaved), so the ratios are comparable on a shared, noisy machine. Defaults: the real
pt-BR read speech of ../shared/audio/manifest.csv.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transcrevai.audio import load_audio  # noqa: E402
from transcrevai.evaluation.loaders import load_manifest  # noqa: E402
from transcrevai.evaluation.wer import wer  # noqa: E402
from transcrevai.local import LocalAsr, whisper_manager  # noqa: E402
from transcrevai.pipeline import run_pipeline  # noqa: E402
from transcrevai.settings import Settings  # noqa: E402
from transcrevai.types import TranscribeOptions  # noqa: E402


@dataclass
class Config:
    label: str
    model: str
    compute_type: str
    beam: int
    language: str = "pt"
    asr: LocalAsr | None = None
    seconds: float = 0.0
    hyps: list[str] = field(default_factory=list)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--manifest", default=str(ROOT.parent / "shared/audio/manifest.csv"))
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    items = load_manifest(Path(args.manifest))
    items = items[: args.limit] if args.limit else items
    configs = [
        Config("base int8 beam5 (default)", "base", "int8", 5),
        Config("base int8 beam1", "base", "int8", 1),
        Config("base float32 beam5", "base", "float32", 5),
        Config("tiny.en int8 beam5 (speed only)", "tiny.en", "int8", 5, language="en"),
    ]
    for c in configs:
        c.asr = LocalAsr(whisper_manager(Settings(whisper_compute_type=c.compute_type), c.model))
    audio_s = 0.0
    refs = []
    for item in items:
        audio = load_audio(item.audio_path)
        audio_s += audio.duration
        refs.append(item.reference)
        for c in configs:
            opts = TranscribeOptions(language=c.language, beam_size=c.beam, detect_variety=False)
            assert c.asr is not None
            asyncio.run(c.asr.model_info())  # load outside the timing
            t = time.perf_counter()
            tr = asyncio.run(run_pipeline(audio, opts, c.asr))
            c.seconds += time.perf_counter() - t
            c.hyps.append(tr.text)
    base = configs[0].seconds
    print(f"{len(items)} files, {audio_s:.0f} s of audio\n")
    print(f"{'configuration':34s} {'× real time':>11s} {'time vs default':>16s} {'WER':>7s}")
    for c in configs:
        w = "   n/a" if c.language != "pt" else f"{wer(refs, c.hyps).wer * 100:6.1f}%"
        print(f"{c.label:34s} {audio_s / c.seconds:11.1f} {c.seconds / base:16.2f} {w:>7s}")


if __name__ == "__main__":
    main()
