"""Diarization settings in one frozen dataclass, shared by the runner, the CLI and the bench.

The defaults are the configuration picked with ``scripts/bench_diarization.py`` (its docstring
holds the table): GE2E d-vectors with PT-BR-shrunk normalisation, DER 0.4 % on 12 held-out
real-voice mls-pt conversations, every speaker count right, about 70-90x real time on one core.
MFCC statistics run at about 800x but count speakers badly (DER 18-25 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FeatureKind = Literal["mfcc", "mfcc+spectral", "ge2e", "ge2e+mfcc"]
Normalization = Literal["auto", "ptbr", "population", "file", "none"]

STATS_DIR = Path(__file__).resolve().parents[2] / "stats"


@dataclass(frozen=True)
class DiarizationConfig:
    """Every knob of windowing, features, normalisation, clustering and turn smoothing.

    ``normalization``: "ptbr" standardises with the file's own statistics shrunk toward the
    shipped PT-BR statistics (``prior_windows`` is the prior's weight in windows: short files
    lean on the population, long ones on themselves); "population" uses the PT-BR statistics
    alone; "file" the file's own; "auto" = "ptbr" when the request language is Portuguese (or
    unknown) and the stats file covers the feature kind, else "file".
    """

    sample_rate: int = 16000
    win: float = 1.5
    hop: float = 0.75
    kind: FeatureKind = "ge2e"
    n_mfcc: int = 20
    normalization: Normalization = "auto"
    prior_windows: float = 30.0
    stats_path: Path = STATS_DIR / "ptbr_feature_stats.json"
    centroids_path: Path = STATS_DIR / "ptbr_voice_centroids.json"
    use_centroids: bool = False
    # clustering
    pruning: float = 0.0  # 0 = clustering.PRUNING[kind] (affinities kept per row)
    single_speaker_threshold: float = 0.0  # 0 = clustering.SINGLE_THRESHOLDS[kind, mode]
    max_auto_speakers: int = 10
    # turns
    min_turn: float = 0.3
    merge_gap: float = 0.5
    resegment: bool = True
    switch_penalty: float = 0.0  # 0 = clustering.SWITCH_PENALTY
    frame: float = 0.02
