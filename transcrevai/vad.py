"""Speech detection (faster-whisper's bundled Silero ONNX) and cutting speech into ≤30 s chunks.

Each chunk is a contiguous stretch of the recording (so Whisper hears real pauses) that keeps
the map back to original time and where its speech lies (so a second pass never decodes
silence).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from .audio import SAMPLE_RATE

CHUNK_SECONDS = 30.0
# How much of the audio around a span a chunk may take in: no cap but the window and the gap
# midpoint (2 s gave 12.35 % WER on ../shared/audio, unlimited 11.73 %; plain faster-whisper 11.93 %).
EDGE_PAD_S = CHUNK_SECONDS


@dataclass
class SpeechChunk:
    """One Whisper window: the recording from sample ``offset`` on, and where its speech is."""

    audio: np.ndarray
    offset: int = 0
    # chunk-local (start, end) seconds of the VAD speech inside it; empty = all of it
    speech: list[tuple[float, float]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.audio.size / SAMPLE_RATE

    @property
    def start(self) -> float:
        return self.offset / SAMPLE_RATE

    @property
    def end(self) -> float:
        return (self.offset + self.audio.size) / SAMPLE_RATE

    def to_original(self, t: float) -> float:
        """Chunk-local seconds → seconds in the recording (clamped to the chunk)."""
        return round(self.start + min(max(t, 0.0), self.duration), 3)


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
    audio: np.ndarray,
    regions: list[tuple[int, int]],
    max_seconds: float = CHUNK_SECONDS,
    edge_pad_s: float = EDGE_PAD_S,
) -> list[SpeechChunk]:
    """Group consecutive regions into contiguous spans of at most ``max_seconds``, then widen
    each span into the silence around it.

    Whisper was trained on windows of real audio, pauses and all, and its output changes when
    the silence before the first word or after the last is cut away (FLEURS files lost or
    changed edge words that way). So a chunk is one contiguous stretch of the recording:
    the pauses between its regions stay, and the window is filled with the audio around the
    span (up to ``edge_pad_s`` a side, never past the midpoint of the gap to the next chunk or
    the file's ends), so a short file is decoded whole, as Whisper would hear it alone. Long
    silences between spans are still skipped; text Whisper puts in the added silence is
    dropped after decoding (``asr._drop_outside_speech``).
    """
    limit = int(max_seconds * SAMPLE_RATE)
    spans: list[list[tuple[int, int]]] = []  # each: the regions one chunk covers
    for start, end in regions:
        # a region longer than the limit (VAD caps them, but be safe) is split hard
        while end - start > limit:
            spans.append([(start, start + limit)])
            start += limit
        if spans and end - spans[-1][0][0] <= limit:
            spans[-1].append((start, end))
        else:
            spans.append([(start, end)])
    pad = int(edge_pad_s * SAMPLE_RATE)
    chunks: list[SpeechChunk] = []
    for i, span in enumerate(spans):
        first, last = span[0][0], span[-1][1]
        before = first - (spans[i - 1][-1][1] + first) // 2 if i else first
        after = (last + spans[i + 1][0][0]) // 2 - last if i + 1 < len(spans) else audio.size - last
        room = limit - (last - first)
        # share the room; a side with little audio to give leaves the rest to the other
        left = max(0, min(pad, before, max(room // 2, room - min(pad, after))))
        right = max(0, min(pad, after, room - left))
        start, end = first - left, last + right
        chunks.append(
            SpeechChunk(
                audio[start:end].astype(np.float32),
                start,
                speech=[((s - start) / SAMPLE_RATE, (e - start) / SAMPLE_RATE) for s, e in span],
            )
        )
    return chunks


def regions_seconds(regions: list[tuple[int, int]]) -> list[tuple[float, float]]:
    return [(s / SAMPLE_RATE, e / SAMPLE_RATE) for s, e in regions]
