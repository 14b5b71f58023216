"""Our pipeline vs plain faster-whisper on the same files, side by side in one run: WER and time.

    python scripts/bench_wer.py                      # ../shared/audio/manifest.csv, base
    python scripts/bench_wer.py --ours base:beam=5 --report bench.json

"ours" is ``transcribe_file`` with default options (VAD chunking, batched decoding, guards,
word timestamps, variety). "plain" is ``WhisperModel.transcribe`` on the very same CTranslate2
model object (base int8 on CPU): beam 5, language pt, no VAD, its own defaults otherwise
(condition_on_previous_text, temperature fallback), word timestamps on so both sides do the
same work. Both hypotheses are normalised with normalize_pt. Files alternate which side
runs first, and one untimed warm-up file loads the VAD and the model first.
Targets: our WER <= plain's (team anchor: plain 16.3 % on the manifest), time ratio <= 1.15.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from evaluate import ROOT, Runner, aggregate, parse_config, score, speed_ratios, timing

from transcrevai.evaluation import load_manifest

MANIFEST = ROOT.parent / "shared" / "audio" / "manifest.csv"
TARGET_RATIO = 1.15


def plain_transcribe(model: Any, path: Path, beam_size: int) -> tuple[str, float, float]:
    """(text, wall s, CPU s) from faster-whisper's own sequential transcribe, VAD off."""
    wall, cpu = time.perf_counter(), time.process_time()
    segments, _ = model.transcribe(
        str(path), language="pt", beam_size=beam_size, vad_filter=False, word_timestamps=True
    )
    text = " ".join(s.text.strip() for s in segments)
    return text, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    ap.add_argument("--ours", default="base", help="our configuration (evaluate.py syntax)")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--report", type=Path)
    args = ap.parse_args()
    if not args.manifest.exists():
        raise SystemExit(f"{args.manifest} is missing: the benchmark needs real speech")
    items = load_manifest(args.manifest)[: args.limit]
    config = parse_config(args.ours)
    runner = Runner()
    with runner.manager(config.model).use() as engine:
        plain_model = engine.model  # the same loaded weights, threads and compute type
    beam = config.options.beam_size

    runner.transcribe(items[0].audio_path, config)  # warm-up: VAD session, first allocations
    plain_transcribe(plain_model, items[0].audio_path, beam)

    rows: list[dict[str, Any]] = []
    print(
        f"{'file':<28} {'dur':>5} {'WER ours':>9} {'WER plain':>9} {'s ours':>7} "
        f"{'s plain':>7} {'ratio':>6}"
    )
    for n, item in enumerate(items):
        result: dict[str, Any] = {}
        duration = 0.0
        for side in ("ours", "plain") if n % 2 == 0 else ("plain", "ours"):
            if side == "ours":
                transcript, wall, cpu = runner.transcribe(item.audio_path, config)
                text, duration = transcript.text, transcript.duration
            else:
                text, wall, cpu = plain_transcribe(plain_model, item.audio_path, beam)
            result[side] = {
                "hypothesis": text,
                **score(item.reference, text),
                **timing(wall, cpu, 0.0),
            }
        for side in ("ours", "plain"):  # our decoder's duration serves both sides
            result[side].update(
                timing(result[side]["seconds"], result[side]["cpu_seconds"], duration)
            )
        o, p = result["ours"], result["plain"]
        rows.append({"audio": str(item.audio_path), "reference": item.reference, **result})
        print(
            f"{item.audio_path.name[:28]:<28} {duration:5.1f} {o['wer']:9.3f} {p['wer']:9.3f} "
            f"{o['seconds']:7.2f} {p['seconds']:7.2f} {o['seconds'] / p['seconds']:6.2f}",
            flush=True,
        )

    ours, plain = (aggregate([r[side] for r in rows]) for side in ("ours", "plain"))
    ratios = speed_ratios(plain, ours)
    print(
        f"\nours  ({config.label}): WER {ours['wer']:.2%}  CER {ours['cer']:.2%}  "
        f"RTF {ours['rtf']:.3f}"
    )
    print(
        f"plain (beam {beam}, no VAD): WER {plain['wer']:.2%}  CER {plain['cer']:.2%}  "
        f"RTF {plain['rtf']:.3f}"
    )
    print(
        f"time ours/plain: wall {ratios['wall']}  CPU {ratios['cpu']}  (target <= {TARGET_RATIO})"
    )
    wer_ok = ours["wer"] <= plain["wer"]
    speed_ok = (ratios["wall"] or 0) <= TARGET_RATIO
    print(
        f"WER target (ours <= plain): {'met' if wer_ok else 'NOT met'}; "
        f"speed target: {'met' if speed_ok else 'NOT met'}"
    )
    if args.report:
        report = {
            "manifest": str(args.manifest),
            "ours": config.label,
            "options": config.options.model_dump(),
            "beam_size": beam,
            "items": rows,
            "aggregate": {"ours": ours, "plain": plain},
            "time_ratio": ratios,
        }
        args.report.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
