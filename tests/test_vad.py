"""Speech detection on espeak-ng speech with known silences, and cutting it into ≤30 s
contiguous chunks whose time map back to the recording is exact."""

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
def test_a_short_recording_is_one_chunk_of_all_its_audio(
    spaced_speech: tuple[np.ndarray, list[tuple[float, float]]],
) -> None:
    """~10 s with pauses: decoded whole, as Whisper hears it alone; the speech map is kept."""
    audio, _ = spaced_speech
    regions = speech_regions(audio)
    (chunk,) = chunk_speech(audio, regions)
    assert _span(chunk) == (0, audio.size)
    np.testing.assert_array_equal(chunk.audio, audio)
    assert chunk.speech == [(s / SR, e / SR) for s, e in regions]


def _span(chunk: SpeechChunk) -> tuple[int, int]:
    """The recording's sample range a chunk covers."""
    return chunk.offset, chunk.offset + chunk.audio.size


def _ramp(seconds: float) -> np.ndarray:
    """Distinct sample values, so a misplaced slice cannot compare equal."""
    return (np.arange(int(seconds * SR)) % 65521).astype(np.float32)


def test_chunks_are_contiguous_spans_within_the_window() -> None:
    audio = _ramp(200.0)
    # 12 regions of 7 s each, 3 s apart: three (27 s) fit a 30 s span, a fourth would not
    regions = [(int((i * 10) * SR), int((i * 10 + 7) * SR)) for i in range(12)]
    chunks = chunk_speech(audio, regions)
    assert len(chunks) == 4
    # the 3 s gaps between spans are shared at their midpoints; the first starts at 0 and
    # the last takes what the window leaves of the 83 s of silence after it
    assert [_span(c) for c in chunks] == [
        (0, int(28.5 * SR)),
        (int(28.5 * SR), int(58.5 * SR)),
        (int(58.5 * SR), int(88.5 * SR)),
        (int(88.5 * SR), int(118.5 * SR)),
    ]
    for c, first in zip(chunks, range(0, 12, 3)):
        assert c.duration <= CHUNK_SECONDS
        assert c.audio.dtype == np.float32
        s, e = _span(c)
        np.testing.assert_array_equal(c.audio, audio[s:e])
        # every region once, in chunk-local seconds
        assert c.speech == [((rs - s) / SR, (re - s) / SR) for rs, re in regions[first : first + 3]]


def test_long_silence_between_spans_is_skipped_and_edges_capped() -> None:
    audio = _ramp(120.0)
    regions = [(10 * SR, 15 * SR), (100 * SR, 104 * SR)]
    a, b = chunk_speech(audio, regions, edge_pad_s=2.0)
    assert _span(a) == (8 * SR, 17 * SR) and a.speech == [(2.0, 7.0)]
    assert _span(b) == (98 * SR, 106 * SR) and b.speech == [(2.0, 6.0)]
    a, b = chunk_speech(audio, regions)  # default: the window is filled, up to the gap middle
    assert _span(a) == (0, 30 * SR)
    assert _span(b) == (87 * SR, 117 * SR)  # the room shared: 13 s a side
    assert a.duration == b.duration == CHUNK_SECONDS


def test_long_region_is_split_hard() -> None:
    audio = _ramp(90.0)
    regions = [(0, 2 * SR), (5 * SR, 75 * SR), (80 * SR, 81 * SR)]  # the middle one is 70 s
    chunks = chunk_speech(audio, regions)
    assert [_span(c) for c in chunks] == [
        (0, int(3.5 * SR)),  # up to the middle of the 3 s gap
        (5 * SR, 35 * SR),
        (35 * SR, 65 * SR),
        (65 * SR, 90 * SR),  # 65–75 s and 80–81 s in one span, then to the file's end
    ]
    assert chunks[3].speech == [(0.0, 10.0), (15.0, 16.0)]
    assert all(c.duration <= CHUNK_SECONDS for c in chunks)


def test_to_original_maps_chunk_time_back_exactly() -> None:
    # a 3.5 s chunk that starts 1.25 s into the recording
    chunk = SpeechChunk(np.zeros(56000, np.float32), offset=20000)
    assert (chunk.start, chunk.end, chunk.duration) == (1.25, 4.75, 3.5)
    cases = {0.0: 1.25, 0.5: 1.75, 0.999: 2.249, 1.0: 2.25, 2.75: 4.0, 3.5: 4.75}
    for local, original in cases.items():
        assert chunk.to_original(local) == original, local
    assert chunk.to_original(9.0) == 4.75  # past the end clamps to the chunk's end
    assert chunk.to_original(-0.2) == 1.25  # and before the start to its start


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
