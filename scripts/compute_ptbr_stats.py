"""Compute PT-BR speaker-feature statistics (and optional "typical voice" centroids).

    python scripts/compute_ptbr_stats.py CORPUS_DIR [--out stats/ptbr_feature_stats.json]
        [--centroids K] [--exclude NAME ...] [--blocks mfcc spectral ge2e]

Every audio file under CORPUS_DIR (recursive; anything soundfile or PyAV decodes) is resampled
to 16 kHz mono, reduced to speech with the product's VAD, cut into the product's analysis
windows, and summarised per feature block (mean/std/min/max per column, streaming, so large
corpora fit in memory). The JSON records its provenance: corpus folder name, subsets used and
excluded, file count, speech hours, date, window/feature config and this script's version.

``--centroids K`` k-means clusters (a reservoir sample of) the corpus windows, standardised with
the new statistics, into K typical PT-BR voices for ``--centroid-kind`` and writes their means
in raw feature units to ``stats/ptbr_voice_centroids.json``. stats/README.md says how to regenerate from larger
corpora (MuPe, NURC-SP, CORAA).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transcrevai.diarization.config import DiarizationConfig, FeatureKind  # noqa: E402
from transcrevai.diarization.features import (  # noqa: E402
    KINDS,
    FeatureExtractor,
    block_names,
    layout,
)
from transcrevai.diarization.windows import (  # noqa: E402
    VAD_MIN_SILENCE_MS,
    VAD_PAD_MS,
    cut_windows,
    plan_windows,
    speech_regions,
)

SCRIPT_VERSION = "1.0"
SR = 16000
AUDIO_EXT = {
    ".wav",
    ".flac",
    ".ogg",
    ".opus",
    ".mp3",
    ".m4a",
    ".aac",
    ".wma",
    ".webm",
    ".mp4",
    ".mkv",
    ".aiff",
    ".aif",
    ".au",
    ".sph",
}
RESERVOIR = 50_000


def load_audio(path: Path) -> np.ndarray:
    """16 kHz mono float32 via soundfile, else PyAV (mp3/opus/video containers)."""
    import soundfile as sf
    import soxr

    try:
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
        mono = audio.mean(axis=1)
    except Exception:  # noqa: BLE001 - any soundfile failure means "try the next decoder"
        import av

        with av.open(str(path)) as container:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SR)
            frames = []
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    frames.append(out.to_ndarray().reshape(-1))
            mono, sr = (np.concatenate(frames) if frames else np.zeros(0, np.float32)), SR
    if sr != SR:
        mono = soxr.resample(mono, sr, SR)
    return np.asarray(mono, dtype=np.float32)


class Running:
    """Streaming per-column count/mean/M2/min/max (Chan et al. parallel update)."""

    def __init__(self, dim: int) -> None:
        self.n = 0
        self.mean = np.zeros(dim)
        self.m2 = np.zeros(dim)
        self.min = np.full(dim, np.inf)
        self.max = np.full(dim, -np.inf)

    def update(self, x: np.ndarray) -> None:
        if not len(x):
            return
        x = x.astype(np.float64)
        n, mean = len(x), x.mean(axis=0)
        delta = mean - self.mean
        total = self.n + n
        self.m2 += ((x - mean) ** 2).sum(axis=0) + delta**2 * self.n * n / total
        self.mean += delta * n / total
        self.n = total
        self.min = np.minimum(self.min, x.min(axis=0))
        self.max = np.maximum(self.max, x.max(axis=0))

    def to_json(self, names: list[str]) -> dict[str, object]:
        std = np.sqrt(self.m2 / max(self.n - 1, 1))
        r = lambda a: [round(float(v), 6) for v in a]  # noqa: E731
        return {
            "dim": len(names),
            "count": self.n,
            "names": names,
            "mean": r(self.mean),
            "std": r(std),
            "min": r(self.min),
            "max": r(self.max),
        }


def find_audio(corpus: Path, exclude: list[str]) -> list[Path]:
    files = []
    for p in sorted(corpus.rglob("*")):
        rel = p.relative_to(corpus).parts
        if p.is_file() and p.suffix.lower() in AUDIO_EXT and not set(rel[:-1]) & set(exclude):
            files.append(p)
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--out", type=Path, default=Path("stats/ptbr_feature_stats.json"))
    ap.add_argument("--centroids", type=int, default=0, metavar="K")
    ap.add_argument("--centroids-out", type=Path, default=Path("stats/ptbr_voice_centroids.json"))
    ap.add_argument("--centroid-kind", default=DiarizationConfig().kind, choices=sorted(KINDS))
    ap.add_argument("--blocks", nargs="+", default=["mfcc", "spectral", "ge2e"])
    ap.add_argument("--exclude", nargs="*", default=[], help="folder names to skip")
    ap.add_argument("--exclude-reason", default="", help="recorded in the provenance")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    cfg = DiarizationConfig()
    files = find_audio(args.corpus, args.exclude)
    if not files:
        print(f"no audio files under {args.corpus}", file=sys.stderr)
        return 1
    kind_of: dict[str, FeatureKind] = {"mfcc": "mfcc", "spectral": "mfcc+spectral", "ge2e": "ge2e"}
    extractors = {b: FeatureExtractor(DiarizationConfig(kind=kind_of[b])) for b in args.blocks}
    running = {b: Running(len(block_names(b, cfg.n_mfcc))) for b in args.blocks}
    rng = np.random.default_rng(args.seed)
    sample: dict[str, list[np.ndarray]] = {b: [] for b in args.blocks}
    seen, speech_s, audio_s, used = 0, 0.0, 0.0, []
    for path in files:
        try:
            audio = load_audio(path)
        except Exception as e:  # noqa: BLE001 - report and skip undecodable files
            print(f"skip {path}: {e}", file=sys.stderr)
            continue
        regions = speech_regions(audio, SR)
        windows = plan_windows(regions, len(audio) / SR, cfg.win, cfg.hop)
        if not windows:
            continue
        clips = cut_windows(audio, windows, SR)
        keep = None
        for b in args.blocks:
            feats = extractors[b].extract(clips)
            sl = [s for name, s, _ in extractors[b].layout if name == b][0]
            feats = feats[:, sl]
            running[b].update(feats)
            keep = keep if keep is not None else _reservoir(rng, seen, len(feats))
            for dst, row in keep:
                _put(sample[b], dst, feats[row])
        seen += len(windows)
        audio_s += len(audio) / SR
        speech_s += sum(e - s for s, e in regions)
        used.append(path)
        print(f"{path.relative_to(args.corpus)}: {len(windows)} windows", file=sys.stderr)

    subsets = sorted(
        {
            p.relative_to(args.corpus).parts[0]
            for p in used
            if len(p.relative_to(args.corpus).parts) > 1
        }
    )
    provenance = {
        "corpus": args.corpus.name,
        "subsets": subsets,
        "excluded": args.exclude,
        "excluded_reason": args.exclude_reason,
        "files": len(used),
        "audio_hours": round(audio_s / 3600, 4),
        "speech_hours": round(speech_s / 3600, 4),
        "windows": seen,
        "date": dt.date.today().isoformat(),
        "script": f"scripts/compute_ptbr_stats.py {SCRIPT_VERSION}",
        "vad": f"Silero (faster-whisper) via transcrevai.diarization.windows.speech_regions, "
        f"pad {VAD_PAD_MS} ms, min silence {VAD_MIN_SILENCE_MS} ms",
        "features": {
            "sample_rate": SR,
            "win": cfg.win,
            "hop": cfg.hop,
            "n_mfcc": cfg.n_mfcc,
            "blocks": args.blocks,
        },
    }
    out = {
        "provenance": provenance,
        "blocks": {b: running[b].to_json(block_names(b, cfg.n_mfcc)) for b in args.blocks},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(used)} files, {speech_s / 3600:.3f} h speech, {seen} windows")
    if args.centroids:
        write_centroids(args, sample, provenance)
    return 0


def _reservoir(rng: np.random.Generator, seen: int, n: int) -> list[tuple[int, int]]:
    """(slot, row) pairs: classic reservoir sampling of window rows (same rows for each block)."""
    out = []
    for row in range(n):
        i = seen + row
        if i < RESERVOIR:
            out.append((i, row))
        else:
            j = int(rng.integers(i + 1))
            if j < RESERVOIR:
                out.append((j, row))
    return out


def _put(rows: list[np.ndarray], slot: int, row: np.ndarray) -> None:
    if slot == len(rows):
        rows.append(row)
    else:
        rows[slot] = row


def write_centroids(
    args: argparse.Namespace, sample: dict[str, list[np.ndarray]], provenance: dict[str, object]
) -> None:
    from sklearn.cluster import KMeans

    from transcrevai.diarization.normalization import load_stats, normalize

    cfg = DiarizationConfig(kind=args.centroid_kind, stats_path=args.out.resolve())
    blocks = [b for b, _, _ in layout(cfg.kind, cfg.n_mfcc)]
    if not all(b in sample and sample[b] for b in blocks):
        print(f"centroids need blocks {blocks}", file=sys.stderr)
        return
    load_stats.cache_clear()
    raw = np.concatenate([np.stack(sample[b]) for b in blocks], axis=1)
    x, _ = normalize(raw, cfg, mode="population")
    k = min(args.centroids, len(x))
    labels = KMeans(n_clusters=k, n_init=4, random_state=args.seed).fit_predict(x)
    # Stored in raw feature units: at run time they get each request's own normalisation.
    cents = np.stack([raw[labels == j].mean(axis=0) for j in range(k)])
    out = {
        "provenance": {
            **provenance,
            "k": k,
            "sampled_windows": len(x),
            "windows_per_centroid": np.bincount(labels, minlength=k).tolist(),
        },
        "kind": cfg.kind,
        "space": "raw features (FeatureExtractor.extract columns)",
        "centroids": [[round(float(v), 6) for v in c] for c in cents],
    }
    args.centroids_out.parent.mkdir(parents=True, exist_ok=True)
    args.centroids_out.write_text(json.dumps(out, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.centroids_out}: {k} centroids of {len(x)} windows ({cfg.kind})")


if __name__ == "__main__":
    raise SystemExit(main())
