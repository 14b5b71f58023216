"""Diarization of one request: windows -> features -> normalisation -> clusters -> turns.

``cluster_and_segment`` is the per-request half the BentoML runner calls after batching
``FeatureExtractor.extract`` across requests; ``diarize`` chains everything in-process (CLI).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from transcrevai.diarization.clustering import check_counts, cluster
from transcrevai.diarization.config import DiarizationConfig
from transcrevai.diarization.features import FeatureExtractor
from transcrevai.diarization.normalization import load_centroids, normalize, resolve_mode
from transcrevai.diarization.turns import build_turns
from transcrevai.diarization.windows import cut_windows, plan_windows
from transcrevai.types import SpeakerTurn, TranscribeOptions


def cluster_and_segment(
    feats: np.ndarray,
    windows: Sequence[tuple[float, float]],
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    config: DiarizationConfig | None = None,
    language: str | None = "pt",
) -> list[SpeakerTurn]:
    """Raw features of one request's windows -> SpeakerTurns (SPEAKER_00.. by first appearance).

    Raises InvalidRequestError for bad speaker-count options (see ``clustering`` module doc).
    ``language`` picks PT-BR statistics ("pt", None) or per-file standardisation (others).
    """
    config = config or DiarizationConfig()
    feats = np.asarray(feats)
    if len(feats) != len(windows):
        raise ValueError(f"{len(feats)} feature rows for {len(windows)} windows")
    check_counts(len(windows), num_speakers, min_speakers, max_speakers)
    if not len(windows):
        return []
    voices = load_centroids(config.centroids_path, config.kind) if config.use_centroids else None
    mode = resolve_mode(config, language)
    x, v = normalize(feats, config, mode=mode, extra=voices)
    labels = cluster(x, num_speakers, min_speakers, max_speakers, config, voices=v, mode=mode)
    return build_turns(windows, labels.tolist(), config.frame, config.min_turn, config.merge_gap)


@lru_cache(maxsize=4)
def get_extractor(config: DiarizationConfig) -> FeatureExtractor:
    """One extractor per config per process (the GE2E weights load once)."""
    return FeatureExtractor(config)


def diarize(
    audio: np.ndarray,
    speech_regions: Sequence[tuple[float, float]],
    duration: float,
    options: TranscribeOptions,
    config: DiarizationConfig | None = None,
    extractor: FeatureExtractor | None = None,
) -> list[SpeakerTurn]:
    """Who spoke when in 16 kHz ``audio`` given VAD ``speech_regions`` (seconds)."""
    config = config or DiarizationConfig()
    windows = plan_windows(speech_regions, duration, config.win, config.hop)
    check_counts(len(windows), options.num_speakers, options.min_speakers, options.max_speakers)
    if not windows:
        return []
    extractor = extractor or get_extractor(config)
    feats = extractor.extract(cut_windows(audio, windows, config.sample_rate))
    return cluster_and_segment(
        feats,
        windows,
        options.num_speakers,
        options.min_speakers,
        options.max_speakers,
        config,
        language=options.language,
    )
