"""Speech detection on espeak-ng speech with known silences, and packing into ≤30 s chunks
whose time map back to the recording is exact."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.synth import have_espeak, synthesize
from transcrevai.audio import SAMPLE_RATE
from transcrevai.vad import (
    CHUNK_SECONDS,
    SpeechChunk,
    chunk_speech,
    regions_seconds,
    speech_regions,
    vad_options,
)

SR = SAMPLE_RATE
PHRASES = ("Bom dia a todos.", "A reunião começa agora.", "Obrigado pela presença.")

needs_espeak = pytest.mark.skipif(not have_espeak(), reason="espeak-ng is needed for speech")


def _trim(a: np.ndarray) -> np.ndarray:
    nz = np.flatnonzero(np.abs(a) > 1e-3)
    return a[nz[0] : nz[-1] + 1]


@pytest.fixture(scope="module")
def spaced_speech() -> tuple[np.ndarray, list[tuple[float, float]]]:
    """0.5 s silence, then three phrases each followed by 2 s of silence; exact speech times."""
    parts, truth, t = [np.zeros(SR // 2, np.float32)], [], 0.5
    for text in PHRASES:
        a = _trim(synthesize(text))
        truth.append((t, t + a.size / SR))
        parts += [a, np.zeros(2 * SR, np.float32)]
        t += a.size / SR + 2.0
    return np.concatenate(parts), truth


@needs_espeak
def test_regions_match_the_phrases(
    spaced_speech: tuple[np.ndarray, list[tuple[float, float]]],
) -> None:
    audio, truth = spaced_speech
    opts = vad_options()
    pad = opts.speech_pad_ms / 1000
    found = regions_seconds(speech_regions(audio, opts))
    assert len(found) == len(truth), found
    for (start, end), (t_start, t_end) in zip(found, truth):
        # Silero pads each region by speech_pad_ms on both sides
        assert start == pytest.approx(max(0.0, t_start - pad), abs=0.3)
        assert end == pytest.approx(t_end + pad, abs=0.3)


@needs_espeak
def test_unpadded_regions_sit_on_the_speech(
    spaced_speech: tuple[np.ndarray, list[tuple[float, float]]],
) -> None:
    audio, truth = spaced_speech
    found = regions_seconds(
        speech_regions(audio, dataclasses.replace(vad_options(), speech_pad_ms=0))
    )
    assert len(found) == len(truth), found
    for (start, end), (t_start, t_end) in zip(found, truth):
        assert start == pytest.approx(t_start, abs=0.3)
        assert end == pytest.approx(t_end, abs=0.3)


@needs_espeak
def test_long_speech_is_split_into_regions_under_the_cap() -> None:
    """~39 s of speech with only 0.1 s breaths: one region uncapped, split under the cap."""
    gap = np.zeros(SR // 10, np.float32)
    once = np.concatenate([x for text in PHRASES for x in (_trim(synthesize(text)), gap)])
    speech = np.tile(once, 8)
    assert speech.size > 35 * SR
    uncapped = dataclasses.replace(vad_options(), max_speech_duration_s=float("inf"))
    (whole,) = speech_regions(speech, uncapped)
    assert whole[1] - whole[0] > CHUNK_SECONDS * SR
    for cap in (CHUNK_SECONDS, 10.0):
        regions = speech_regions(speech, vad_options(cap))
        assert len(regions) >= int(speech.size / SR // cap) + 1
        assert all(e - s <= cap * SR for s, e in regions)
        covered = sum(e - s for s, e in regions)
        assert covered > 0.95 * speech.size


def test_no_regions_in_empty_or_silent_audio() -> None:
    assert speech_regions(np.zeros(0, np.float32)) == []
    assert speech_regions(np.zeros(3 * SR, np.float32)) == []
    assert chunk_speech(np.zeros(0, np.float32), []) == []


@needs_espeak
def test_chunks_from_vad_hold_exactly_the_speech(
    spaced_speech: tuple[np.ndarray, list[tuple[float, float]]],
) -> None:
    audio, _ = spaced_speech
    regions = speech_regions(audio)
    chunks = chunk_speech(audio, regions)
    assert len(chunks) == 1  # ~10 s of speech fits one window
    assert chunks[0].pieces == regions
    expected = np.concatenate([audio[s:e] for s, e in regions])
    np.testing.assert_array_equal(chunks[0].audio, expected)


def _ramp(seconds: float) -> np.ndarray:
    """Distinct sample values, so a misplaced slice cannot compare equal."""
    return (np.arange(int(seconds * SR)) % 65521).astype(np.float32)


def test_packing_respects_the_30_s_window() -> None:
    audio = _ramp(200.0)
    # 12 regions of 7 s each, 3 s apart: 4 fit in 30 s (28 s), a 5th would not
    regions = [(int((i * 10) * SR), int((i * 10 + 7) * SR)) for i in range(12)]
    chunks = chunk_speech(audio, regions)
    assert [len(c.pieces) for c in chunks] == [4, 4, 4]
    assert [p for c in chunks for p in c.pieces] == regions  # each once, in order
    for c in chunks:
        assert c.duration <= CHUNK_SECONDS
        assert c.audio.dtype == np.float32
        np.testing.assert_array_equal(c.audio, np.concatenate([audio[s:e] for s, e in c.pieces]))
    assert (chunks[1].start, chunks[1].end) == (40.0, 77.0)


def test_long_region_is_split_hard() -> None:
    audio = _ramp(90.0)
    regions = [(0, 2 * SR), (5 * SR, 75 * SR), (80 * SR, 81 * SR)]  # the middle one is 70 s
    chunks = chunk_speech(audio, regions)
    assert [c.pieces for c in chunks] == [
        [(0, 2 * SR)],
        [(5 * SR, 35 * SR)],
        [(35 * SR, 65 * SR)],
        [(65 * SR, 75 * SR), (80 * SR, 81 * SR)],
    ]
    assert all(c.duration <= CHUNK_SECONDS for c in chunks)
    assert sum(c.audio.size for c in chunks) == sum(e - s for s, e in regions)


def test_to_original_maps_chunk_time_back_exactly() -> None:
    # pieces at 1.0–2.0 s, 3.0–3.5 s and 5.0–7.0 s of the recording: 3.5 s of chunk audio
    pieces = [(16000, 32000), (48000, 56000), (80000, 112000)]
    chunk = SpeechChunk(np.zeros(56000, np.float32), pieces)
    assert (chunk.start, chunk.end, chunk.duration) == (1.0, 7.0, 3.5)
    cases = {0.0: 1.0, 0.5: 1.5, 0.999: 1.999, 1.0: 3.0, 1.25: 3.25, 1.5: 5.0, 2.75: 6.25}
    for local, original in cases.items():
        assert chunk.to_original(local) == original, local
    assert chunk.to_original(3.5) == 7.0  # the very end
    assert chunk.to_original(9.0) == 7.0  # past the end clamps to the last piece's end
    assert [chunk.piece_index(t) for t in (0.0, 0.999, 1.0, 1.49, 1.5, 3.49, 4.0)] == [
        0, 0, 1, 1, 2, 2, 2,
    ]  # fmt: skip
    # a word's end is mapped with the piece its start was in: it stays in that piece
    assert chunk.to_original(1.0, piece=0) == 2.0
    assert chunk.to_original(1.2, piece=0) == 2.0
    assert chunk.to_original(1.2, piece=1) == 3.2


@needs_espeak
def test_to_original_lands_on_the_same_samples(
    spaced_speech: tuple[np.ndarray, list[tuple[float, float]]],
) -> None:
    """Chunk samples on whole milliseconds map back to the identical recording sample."""
    audio, _ = spaced_speech
    regions = [(8000, 20000), (60000, 61600), (100000, 150000)]
    (chunk,) = chunk_speech(audio, regions)
    for i in range(0, chunk.audio.size, 16 * 37):  # to_original rounds to the millisecond
        t = chunk.to_original(i / SR)
        assert chunk.audio[i] == audio[round(t * SR)]
