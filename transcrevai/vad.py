"""Speech detection (faster-whisper's bundled Silero ONNX) and packing speech into ≤30 s chunks.

Packing several short speech regions into one 30 s window is what makes batched decoding
efficient; each chunk keeps the map back to original time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from .audio import SAMPLE_RATE

CHUNK_SECONDS = 30.0


@dataclass
class SpeechChunk:
    """Concatenated speech pieces (sample ranges of the original audio) fed to Whisper as one."""

    audio: np.ndarray
    pieces: list[tuple[int, int]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.audio.size / SAMPLE_RATE

    @property
    def start(self) -> float:
        return self.pieces[0][0] / SAMPLE_RATE if self.pieces else 0.0

    @property
    def end(self) -> float:
        return self.pieces[-1][1] / SAMPLE_RATE if self.pieces else 0.0

    def piece_index(self, t: float) -> int:
        """Which piece chunk-local time ``t`` falls in (last piece when past the end)."""
        acc = 0.0
        for i, (s, e) in enumerate(self.pieces):
            acc += (e - s) / SAMPLE_RATE
            if t < acc:
                return i
        return max(0, len(self.pieces) - 1)

    def to_original(self, t: float, piece: int | None = None) -> float:
        """Chunk-local seconds → seconds in the original recording."""
        if not self.pieces:
            return t
        idx = self.piece_index(t) if piece is None else piece
        before = sum((e - s) for s, e in self.pieces[:idx]) / SAMPLE_RATE
        s, e = self.pieces[idx]
        local = min(max(t - before, 0.0), (e - s) / SAMPLE_RATE)
        return round(s / SAMPLE_RATE + local, 3)


def vad_options(max_speech_s: float = CHUNK_SECONDS) -> VadOptions:
    # Same defaults as faster-whisper's batched pipeline: short silences split regions.
    return VadOptions(max_speech_duration_s=max_speech_s, min_silence_duration_ms=160)


def speech_regions(audio: np.ndarray, options: VadOptions | None = None) -> list[tuple[int, int]]:
    """Sample ranges that contain speech."""
    if audio.size == 0:
        return []
    stamps = get_speech_timestamps(audio, options or vad_options())
    return [(int(s["start"]), int(s["end"])) for s in stamps]


def chunk_speech(
    audio: np.ndarray, regions: list[tuple[int, int]], max_seconds: float = CHUNK_SECONDS
) -> list[SpeechChunk]:
    """Greedily pack consecutive regions into chunks of at most ``max_seconds``."""
    limit = int(max_seconds * SAMPLE_RATE)
    chunks: list[SpeechChunk] = []
    current: list[tuple[int, int]] = []
    length = 0
    for start, end in regions:
        # a region longer than the limit (VAD caps them, but be safe) is split hard
        while end - start > limit:
            if current:
                chunks.append(_make_chunk(audio, current))
                current, length = [], 0
            chunks.append(_make_chunk(audio, [(start, start + limit)]))
            start += limit
        if current and length + (end - start) > limit:
            chunks.append(_make_chunk(audio, current))
            current, length = [], 0
        current.append((start, end))
        length += end - start
    if current:
        chunks.append(_make_chunk(audio, current))
    return chunks


def _make_chunk(audio: np.ndarray, pieces: list[tuple[int, int]]) -> SpeechChunk:
    return SpeechChunk(
        np.concatenate([audio[s:e] for s, e in pieces]).astype(np.float32), list(pieces)
    )


def regions_seconds(regions: list[tuple[int, int]]) -> list[tuple[float, float]]:
    return [(s / SAMPLE_RATE, e / SAMPLE_RATE) for s, e in regions]
