"""Per-window speaker features, computed for a batch of windows from any number of requests.

Every feature kind is a concatenation of named *blocks* (``mfcc``, ``spectral``, ``ge2e``).
``extract`` returns the raw blocks side by side and nothing request-specific, so the runner can
batch windows of many requests; normalisation (PT-BR statistics or per-file) and block
weighting happen per request in :mod:`transcrevai.diarization.normalization`.

Windows of equal length (nearly all of them: 1.5 s) are stacked and analysed in one librosa
call, which is what makes MFCC statistics run at about a thousand times real time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import librosa
import numpy as np

from transcrevai.diarization.config import DiarizationConfig
from transcrevai.errors import ModelError

N_FFT = 512  # 32 ms at 16 kHz
HOP = 160  # 10 ms
N_MELS = 40
MIN_SAMPLES = N_FFT  # shorter windows are zero-padded to this many samples
F0_MIN, F0_MAX = 60.0, 400.0
F0_FRAME = 640  # yin needs a frame longer than two periods of F0_MIN

# Feature kinds -> (block, weight); weights are each block's share of the cosine affinity.
KINDS: dict[str, list[tuple[str, float]]] = {
    "mfcc": [("mfcc", 1.0)],
    "mfcc+spectral": [("mfcc", 0.7), ("spectral", 0.3)],
    "ge2e": [("ge2e", 1.0)],
    "ge2e+mfcc": [("ge2e", 0.85), ("mfcc", 0.15)],
}
SPECTRAL_NAMES = (
    ["centroid", "bandwidth", "rolloff", "flatness", "zcr"]
    + [f"contrast{i}" for i in range(7)]
    + ["log_f0"]
)


def block_dims(block: str, n_mfcc: int = 20) -> int:
    """Width of one block: MFCC+Δ+ΔΔ mean and std; spectral mean and std; GE2E 256."""
    return {"mfcc": 6 * n_mfcc, "spectral": 2 * len(SPECTRAL_NAMES) + 1, "ge2e": 256}[block]


def layout(kind: str, n_mfcc: int = 20) -> list[tuple[str, slice, float]]:
    """(block, columns, weight) for each block of a feature kind, in column order."""
    if kind not in KINDS:
        raise ValueError(f"unknown feature kind {kind!r}; choose from {sorted(KINDS)}")
    out, col = [], 0
    for block, weight in KINDS[kind]:
        d = block_dims(block, n_mfcc)
        out.append((block, slice(col, col + d), weight))
        col += d
    return out


def block_names(block: str, n_mfcc: int = 20) -> list[str]:
    """Column names of a block (recorded in the stats JSON so files are self-describing)."""
    if block == "mfcc":
        base = [f"{p}{i}" for p in ("c", "d", "dd") for i in range(n_mfcc)]
        return [f"{b}_mean" for b in base] + [f"{b}_std" for b in base]
    if block == "spectral":
        names = [f"{b}_mean" for b in SPECTRAL_NAMES] + [f"{b}_std" for b in SPECTRAL_NAMES]
        return names + ["voiced_share"]
    return [f"ge2e{i}" for i in range(256)]


def _pad(clip: np.ndarray) -> np.ndarray:
    clip = np.asarray(clip, dtype=np.float32).reshape(-1)
    if clip.size < MIN_SAMPLES:
        clip = np.pad(clip, (0, MIN_SAMPLES - clip.size))
    return clip


def _mean_std(x: np.ndarray) -> np.ndarray:
    """(n, d, frames) -> (n, 2d): mean then std over frames."""
    return np.concatenate([x.mean(axis=-1), x.std(axis=-1)], axis=-1)


def mfcc_block(
    y: np.ndarray, sr: int, n_mfcc: int = 20, power: np.ndarray | None = None
) -> np.ndarray:
    """(n, samples) equal-length windows -> (n, 6*n_mfcc): MFCC, Δ, ΔΔ pooled mean and std."""
    if power is None:
        power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=N_MELS)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=n_mfcc)
    frames = mfcc.shape[-1]
    width = min(9, frames if frames % 2 else frames - 1)
    if width >= 3:
        d1 = librosa.feature.delta(mfcc, width=width, order=1)
        d2 = librosa.feature.delta(mfcc, width=width, order=2)
    else:
        d1 = d2 = np.zeros_like(mfcc)
    return _mean_std(np.concatenate([mfcc, d1, d2], axis=-2))


def spectral_block(y: np.ndarray, sr: int, power: np.ndarray | None = None) -> np.ndarray:
    """(n, samples) -> (n, 27): spectral shape, contrast and pitch statistics (mean and std).

    Pitch (YIN) is summarised over frames louder than the window's median energy, where it is
    most likely voiced: log F0 mean/std and the share of such frames inside the F0 range.
    """
    mag = (
        np.sqrt(power)
        if power is not None
        else np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
    )
    shape = np.concatenate(
        [
            np.log1p(librosa.feature.spectral_centroid(S=mag, sr=sr, n_fft=N_FFT)),
            np.log1p(librosa.feature.spectral_bandwidth(S=mag, sr=sr, n_fft=N_FFT)),
            np.log1p(librosa.feature.spectral_rolloff(S=mag, sr=sr, n_fft=N_FFT)),
            np.log(librosa.feature.spectral_flatness(S=mag) + 1e-6),
            librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP)[
                ..., : mag.shape[-1]
            ],
            librosa.feature.spectral_contrast(S=mag, sr=sr, n_fft=N_FFT, fmin=100.0, n_bands=6),
        ],
        axis=-2,
    )
    f0 = librosa.yin(y, fmin=F0_MIN, fmax=F0_MAX, sr=sr, frame_length=F0_FRAME, hop_length=HOP)
    energy = (mag**2).sum(axis=-2)[..., : f0.shape[-1]]
    f0 = f0[..., : energy.shape[-1]]
    loud = energy >= np.median(energy, axis=-1, keepdims=True)
    ok = loud & (f0 > F0_MIN * 1.05) & (f0 < F0_MAX * 0.95)
    logf0 = np.log(np.where(ok, f0, 1.0))
    cnt = np.maximum(ok.sum(axis=-1), 1)
    f0_mean = (logf0 * ok).sum(axis=-1) / cnt
    f0_std = np.sqrt((((logf0 - f0_mean[..., None]) ** 2) * ok).sum(axis=-1) / cnt)
    voiced = ok.sum(axis=-1) / np.maximum(loud.sum(axis=-1), 1)
    f0_mean = np.where(ok.any(axis=-1), f0_mean, np.log(150.0))
    pooled = _mean_std(shape)
    k = shape.shape[-2]
    return np.concatenate(
        [
            pooled[..., :k],
            f0_mean[..., None],
            pooled[..., k:],
            f0_std[..., None],
            voiced[..., None],
        ],
        axis=-1,
    )


class FeatureExtractor:
    """Turns a batch of 16 kHz windows into raw feature rows for ``config.kind``.

    The GE2E encoder is loaded once, on construction, only for kinds that use it.
    """

    def __init__(self, config: DiarizationConfig | None = None) -> None:
        self.config = config or DiarizationConfig()
        self.layout = layout(self.config.kind, self.config.n_mfcc)
        self.dim = self.layout[-1][1].stop
        self._encoder: Any = None
        if any(block == "ge2e" for block, _, _ in self.layout):
            try:
                from transcrevai.diarization.ge2e import GE2EEncoder
            except ImportError as e:  # pragma: no cover - depends on the install
                raise ModelError(f"GE2E encoder unavailable: {e}") from None
            self._encoder = GE2EEncoder.load()

    def extract(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dim) float32 raw features, one row per window, in input order."""
        out = np.zeros((len(clips), self.dim), dtype=np.float32)
        if not clips:
            return out
        # An empty window (a caller's rounding at the end of the audio) becomes a short silence:
        # raising would fail every request sharing this batch.
        raw = [np.asarray(c, dtype=np.float32).reshape(-1) for c in clips]
        raw = [c if c.size else np.zeros(MIN_SAMPLES, np.float32) for c in raw]
        padded = [_pad(c) for c in raw]
        groups: dict[int, list[int]] = {}
        for i, c in enumerate(padded):
            groups.setdefault(c.size, []).append(i)
        for idx in groups.values():
            y = np.stack([padded[i] for i in idx])
            out[idx] = self._blocks(y, [raw[i] for i in idx])
        return out

    def _blocks(self, y: np.ndarray, raw: list[np.ndarray]) -> np.ndarray:
        sr = self.config.sample_rate
        needs_stft = any(b in ("mfcc", "spectral") for b, _, _ in self.layout)
        power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2 if needs_stft else None
        parts = []
        for block, _, _ in self.layout:
            if block == "mfcc":
                parts.append(mfcc_block(y, sr, self.config.n_mfcc, power))
            elif block == "spectral":
                parts.append(spectral_block(y, sr, power))
            else:
                parts.append(self._encoder.embed_windows(raw, sr=sr))
        return np.concatenate(parts, axis=-1)
