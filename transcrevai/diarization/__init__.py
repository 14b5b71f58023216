"""Speaker diarization ("who spoke when"), framework-free: the runner and the CLI share it.

windows (inside VAD speech) -> batched features (MFCC statistics, spectral/pitch statistics,
GE2E d-vectors) -> per-request normalisation with PT-BR statistics -> spectral clustering with
automatic speaker count -> smoothed SpeakerTurns.
"""

from transcrevai.diarization.config import DiarizationConfig
from transcrevai.diarization.diarize import cluster_and_segment, diarize
from transcrevai.diarization.features import FeatureExtractor
from transcrevai.diarization.windows import cut_windows, plan_windows

__all__ = [
    "DiarizationConfig",
    "FeatureExtractor",
    "cluster_and_segment",
    "cut_windows",
    "diarize",
    "plan_windows",
]
