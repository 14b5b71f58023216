"""PT-BR feature statistics: loading the shipped JSON and normalising one request's features.

Three ways to standardise a request's windows, all measured by scripts/bench_diarization.py:
- "file": the file's own mean/std. Removes what all speakers of the file share (channel, room,
  language), which separates speakers best on long files, but on a short file those moments
  are noise and a monologue is scattered into "speakers".
- "population": the PT-BR corpus mean/std alone. Stable, but keeps the file's shared channel
  offset, which pulls different speakers together: clearly worse on long files.
- "ptbr" (the default for Portuguese): the file's moments shrunk toward the PT-BR ones, a prior
  worth ``prior_windows`` windows. Long files get per-file behaviour, short files lean on the
  population (15 s excerpts, GE2E: DER 37 % per-file vs 10 % shrunk; equal on 60-120 s).

After standardising, each block is scaled to unit length times ``sqrt(weight)``, so the dot
product of two rows is the weighted mean of per-block cosine similarities.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from transcrevai.diarization.config import DiarizationConfig
from transcrevai.diarization.features import layout

EPS = 1e-6
SCALE_FLOOR = 0.05  # minimum column scale, as a share of the block's median scale


@dataclass(frozen=True)
class BlockStats:
    mean: np.ndarray
    std: np.ndarray


@dataclass(frozen=True)
class FeatureStats:
    blocks: dict[str, BlockStats]
    provenance: dict[str, object]

    def covers(self, kind: str, n_mfcc: int = 20) -> bool:
        return all(
            b in self.blocks and self.blocks[b].mean.size == sl.stop - sl.start
            for b, sl, _ in layout(kind, n_mfcc)
        )


@lru_cache(maxsize=8)
def load_stats(path: Path) -> FeatureStats | None:
    """The stats file written by ``scripts/compute_ptbr_stats.py``; None where it is absent."""
    path = Path(path)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    blocks = {
        name: BlockStats(np.asarray(b["mean"], np.float32), np.asarray(b["std"], np.float32))
        for name, b in data.get("blocks", {}).items()
    }
    return FeatureStats(blocks, dict(data.get("provenance", {})))


@lru_cache(maxsize=8)
def load_centroids(path: Path, kind: str) -> np.ndarray | None:
    """(K, dim) raw-feature "typical PT-BR voice" centroids for ``kind``, or None."""
    path = Path(path)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("kind") != kind:
        return None
    return np.asarray(data["centroids"], np.float32)


def is_portuguese(language: str | None) -> bool:
    """Unknown language counts as Portuguese: that is what the product is for."""
    return language is None or language.lower().split("-")[0] in ("pt", "por", "portuguese")


def resolve_mode(config: DiarizationConfig, language: str | None) -> str:
    """The normalisation mode for this request (see ``DiarizationConfig.normalization``)."""
    mode = config.normalization
    if mode != "auto":
        return mode
    stats = load_stats(config.stats_path)
    if is_portuguese(language) and stats is not None and stats.covers(config.kind, config.n_mfcc):
        return "ptbr"
    return "file"


def _transform(
    x: np.ndarray, mode: str, prior: BlockStats | None, prior_windows: float
) -> tuple[np.ndarray, np.ndarray]:
    """(centre, scale) of one block for this request's rows ``x``."""
    d = x.shape[1]
    if mode == "none" or (mode == "file" and len(x) < 2):
        return np.zeros(d), np.ones(d)
    if mode == "population" or (mode == "ptbr" and len(x) == 0):
        assert prior is not None
        return prior.mean.astype(np.float64), prior.std.astype(np.float64)
    n, mean, var = len(x), x.mean(axis=0), x.var(axis=0)
    if mode == "file":
        return mean, np.sqrt(var)
    assert prior is not None  # "ptbr": MAP-style blend of file and population moments
    n0, mu0, var0 = prior_windows, prior.mean.astype(np.float64), prior.std.astype(np.float64) ** 2
    centre = (n * mean + n0 * mu0) / (n + n0)
    var = (n * (var + (mean - centre) ** 2) + n0 * (var0 + (mu0 - centre) ** 2)) / (n + n0)
    return centre, np.sqrt(var)


def normalize(
    feats: np.ndarray,
    config: DiarizationConfig,
    language: str | None = "pt",
    mode: str | None = None,
    extra: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Raw ``extract`` rows of ONE request -> weighted unit rows (dot product = affinity).

    ``extra`` rows (raw-space typical-voice centroids) get the same transform as the windows,
    so they live in the same space; they never influence the statistics.
    """
    mode = mode or resolve_mode(config, language)
    feats = np.asarray(feats, dtype=np.float64)
    stats = load_stats(config.stats_path) if mode in ("ptbr", "population") else None
    if stats is None and mode in ("ptbr", "population"):
        raise ValueError("PT-BR statistics file not found")
    if stats is not None and not stats.covers(config.kind, config.n_mfcc):
        raise ValueError(f"no PT-BR statistics for feature kind {config.kind!r}")
    parts, extra_parts = [], []
    for block, sl, weight in layout(config.kind, config.n_mfcc):
        prior = stats.blocks[block] if stats is not None else None
        centre, scale = _transform(feats[:, sl], mode, prior, config.prior_windows)
        # Columns that barely move (GE2E's dead ReLU units) must not be blown up to noise.
        scale = np.maximum(scale, max(EPS, SCALE_FLOOR * float(np.median(scale))))
        parts.append(_unit((feats[:, sl] - centre) / scale, weight))
        if extra is not None:
            extra_parts.append(
                _unit((np.asarray(extra, np.float64)[:, sl] - centre) / scale, weight)
            )
    x = np.concatenate(parts, axis=1)
    return x, (np.concatenate(extra_parts, axis=1) if extra is not None else None)


def _unit(x: np.ndarray, weight: float) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), EPS) * np.sqrt(weight)
