"""Decoding uploads: every common container/codec/rate to 16 kHz mono, and every bad input to
the right error (class, HTTP status, code) with a message that names no file-system path.

All media is made at test time with espeak-ng + ffmpeg (tests/media.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import correlate

from tests import media
from transcrevai.audio import SAMPLE_RATE, DecodedAudio, load_audio
from transcrevai.errors import (
    AudioError,
    EmptyAudioError,
    NoAudioStreamError,
    TooLargeError,
    TooLongError,
    TranscrevAIError,
    UnsupportedMediaError,
)

pytestmark = pytest.mark.skipif(not media.have_tools(), reason="ffmpeg and espeak-ng are needed")

RATES = (8000, 22050, 44100, 48000)
FORMATS = (*media.AUDIO_FORMATS, "mp4-video")


def _correlation(decoded: np.ndarray, reference: np.ndarray, max_lag: int = 800) -> float:
    """Peak normalised cross-correlation within ±50 ms (codecs may delay by a few samples)."""
    n = min(decoded.size, reference.size)
    a, b = decoded[:n].astype(np.float64), reference[:n].astype(np.float64)
    full = correlate(a, b, mode="full", method="fft")[n - 1 - max_lag : n + max_lag]
    return float(full.max() / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, np.ndarray]]:
    """Per source rate: a stereo PCM wav and the 16 kHz mono signal a decoder must return."""
    d = tmp_path_factory.mktemp("sources")
    out = {}
    for rate in RATES:
        stereo = media.stereo_speech(rate)
        out[rate] = (media.write_wav(d / f"src_{rate}.wav", stereo, rate),
                     media.mono_reference(stereo, rate))  # fmt: skip
    return out


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_decodes_stereo_to_16k_mono(
    fmt: str, rate: int, sources: dict[int, tuple[Path, np.ndarray]], tmp_path: Path
) -> None:
    src, reference = sources[rate]
    if fmt == "mp4-video":
        path = media.video_with_audio(src, tmp_path / "clip.mp4")
    else:
        suffix, args = media.AUDIO_FORMATS[fmt]
        path = media.encode(src, tmp_path / f"clip{suffix}", args)

    got = load_audio(path)

    assert isinstance(got, DecodedAudio)
    assert got.samples.dtype == np.float32 and got.samples.ndim == 1
    assert got.source_channels == 2
    if fmt not in ("opus", "webm"):  # Opus always decodes at 48 kHz
        assert got.source_sample_rate == rate
    expected = reference.size / SAMPLE_RATE
    assert abs(got.duration - expected) <= 0.05, (got.duration, expected)
    assert got.duration == pytest.approx(got.samples.size / SAMPLE_RATE)
    # same waveform as the channel mean: both channels are mixed, none dropped
    assert _correlation(got.samples, reference) > 0.95
    assert not got.is_silent


@pytest.mark.parametrize("suffix", [".webm", ".mkv", ".mp4"])
def test_video_whose_sound_stops_early_keeps_its_sound(
    suffix: str, sources: dict[int, tuple[Path, np.ndarray]], tmp_path: Path
) -> None:
    """6 s of picture, 3.4 s of sound: the sound decodes whole and is not called truncated."""
    src, reference = sources[48000]
    got = load_audio(media.video_with_audio(src, tmp_path / f"v{suffix}", picture_seconds=6))
    assert abs(got.duration - reference.size / SAMPLE_RATE) <= 0.1  # AAC in MKV keeps its padding
    assert _correlation(got.samples, reference) > 0.95


def test_left_only_and_right_only_channels_are_both_heard(tmp_path: Path) -> None:
    """Speech on one channel and silence on the other still decodes to speech either way."""
    speech = media.stereo_speech(16000)[:, 0]
    for side in (0, 1):
        stereo = np.zeros((speech.size, 2), np.float32)
        stereo[:, side] = speech
        got = load_audio(media.write_wav(tmp_path / f"side{side}.wav", stereo, 16000))
        assert _correlation(got.samples, speech / 2) > 0.99
        assert np.abs(got.samples).max() == pytest.approx(np.abs(speech).max() / 2, rel=0.02)


def test_bytes_and_path_give_the_same_samples(
    sources: dict[int, tuple[Path, np.ndarray]], tmp_path: Path
) -> None:
    src, _ = sources[44100]
    path = media.encode(src, tmp_path / "a.mp3", media.AUDIO_FORMATS["mp3"][1])
    from_path = load_audio(path)
    from_bytes = load_audio(path.read_bytes())
    assert from_bytes.container == from_path.container == "mp3"
    np.testing.assert_array_equal(from_bytes.samples, from_path.samples)


def test_silence_decodes_and_is_silent(tmp_path: Path) -> None:
    got = load_audio(media.silence(tmp_path / "quiet.flac", 3.0, 44100))
    assert got.duration == pytest.approx(3.0, abs=0.05)
    assert got.is_silent
    assert got.container == "flac"


def test_energy_sits_where_the_speech_is(tmp_path: Path) -> None:
    """1 s silence, speech, 1 s silence through Opus: loud only in the middle."""
    speech = media.stereo_speech(24000)[:, 0]  # left channel: speech alone
    pad = np.zeros(24000, np.float32)
    path = media.write_wav(tmp_path / "s.wav", np.concatenate([pad, speech, pad]), 24000)
    got = load_audio(media.encode(path, tmp_path / "s.ogg", media.AUDIO_FORMATS["opus"][1]))
    second = SAMPLE_RATE
    edges = np.concatenate([got.samples[: second - 800], got.samples[-second + 800 :]])
    middle = got.samples[second:-second]
    assert not got.is_silent
    assert np.sqrt(np.mean(middle**2)) > 50 * np.sqrt(np.mean(edges**2))


# --- bad inputs ---------------------------------------------------------------------------


def _fails(source: Path | bytes, cls: type[TranscrevAIError], status: int, code: str,
           **limits: float) -> TranscrevAIError:  # fmt: skip
    with pytest.raises(TranscrevAIError) as info:
        load_audio(source, **limits)
    err = info.value
    assert type(err) is cls, (type(err), err.message)
    assert (err.status, err.code) == (status, code)
    assert err.to_body() == {"error": {"code": code, "message": err.message}}
    assert err.message.strip()
    if isinstance(source, Path):  # no path, folder or file name leaks to a client
        for leak in (str(source), str(source.parent), source.name, "/tmp"):
            assert leak not in err.message, err.message
    return err


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    _fails(path, EmptyAudioError, 400, "empty_audio")
    _fails(b"", EmptyAudioError, 400, "empty_audio")


@pytest.mark.parametrize("name", ["noise.mp3", "noise.wav", "noise.bin"])
def test_random_bytes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(7).bytes(64_000))
    err = _fails(path, UnsupportedMediaError, 415, "unsupported_media")
    assert "not a recognised audio or video format" in err.message
    _fails(path.read_bytes(), UnsupportedMediaError, 415, "unsupported_media")


def test_html_renamed_wav(tmp_path: Path) -> None:
    path = tmp_path / "page.wav"
    body = "".join(f"<p>Parágrafo {i}: olá, mundo.</p>" for i in range(200))
    path.write_text(f"<!DOCTYPE html><html><head><title>x</title></head><body>{body}</body></html>",
                    encoding="utf-8")  # fmt: skip
    _fails(path, UnsupportedMediaError, 415, "unsupported_media")


@pytest.mark.parametrize("name", ["notes.txt", "notes.nfo", "notes.mp3", "notes.bin"])
def test_text_file(tmp_path: Path, name: str) -> None:
    # ffmpeg opens .txt/.nfo/.bin files as "text-art video": still not media to transcribe
    path = tmp_path / name
    path.write_text("Ata da reunião de condomínio.\nPresentes: João, Maria.\n" * 200, "utf-8")
    _fails(path, UnsupportedMediaError, 415, "unsupported_media")
    _fails(path.read_bytes(), UnsupportedMediaError, 415, "unsupported_media")


@pytest.mark.parametrize("name", ["photo.png", "photo.jpg"])
def test_still_image(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    media.ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64", "-frames:v", "1", path)
    _fails(path, UnsupportedMediaError, 415, "unsupported_media")
    _fails(path.read_bytes(), UnsupportedMediaError, 415, "unsupported_media")


def test_truncated_mp3(sources: dict[int, tuple[Path, np.ndarray]], tmp_path: Path) -> None:
    src, _ = sources[22050]
    whole = media.encode(src, tmp_path / "whole.mp3", media.AUDIO_FORMATS["mp3"][1]).read_bytes()
    path = tmp_path / "cut.mp3"
    path.write_bytes(whole[: len(whole) // 2])
    err = _fails(path, AudioError, 400, "invalid_audio")
    assert "truncated" in err.message


def test_truncated_wav(sources: dict[int, tuple[Path, np.ndarray]], tmp_path: Path) -> None:
    whole = sources[22050][0].read_bytes()
    for keep in (len(whole) // 2, 44):  # half the samples; only the header
        path = tmp_path / f"cut{keep}.wav"
        path.write_bytes(whole[:keep])
        err = _fails(path, AudioError, 400, "invalid_audio")
        assert "truncated" in err.message


def test_video_without_audio(tmp_path: Path) -> None:
    err = _fails(media.video_without_audio(tmp_path / "mute.mp4"),
                 NoAudioStreamError, 400, "no_audio_stream")  # fmt: skip
    assert "no audio track" in err.message


def test_zero_length_wav(tmp_path: Path) -> None:
    path = media.write_wav(tmp_path / "zero.wav", np.zeros((0, 1), np.float32), 16000)
    assert path.stat().st_size > 0  # a valid header, no samples
    _fails(path, EmptyAudioError, 400, "empty_audio")


def test_over_max_mb(tmp_path: Path) -> None:
    path = media.write_wav(tmp_path / "big.wav", np.zeros(16000 * 40, np.float32), 16000)
    assert path.stat().st_size > 1024 * 1024
    err = _fails(path, TooLargeError, 413, "too_large", max_mb=1)
    assert "limit is 1 MB" in err.message
    _fails(path.read_bytes(), TooLargeError, 413, "too_large", max_mb=1)
    assert load_audio(path, max_mb=2).duration == pytest.approx(40.0)


def test_two_hour_flac_fails_on_its_declared_duration(tmp_path: Path) -> None:
    """The limit is checked on the header, before anything is decoded."""
    path = media.silence(tmp_path / "two_hours.flac", 7200, 8000)
    err = _fails(path, TooLongError, 413, "too_long", max_duration_s=600)
    assert "7200" in err.message and "600" in err.message


def test_duration_just_under_the_limit_passes(tmp_path: Path) -> None:
    path = media.silence(tmp_path / "ten.wav", 10.0, 16000)
    assert load_audio(path, max_duration_s=10.0).duration == pytest.approx(10.0, abs=0.01)
    _fails(path, TooLongError, 413, "too_long", max_duration_s=5.0)


def test_missing_file_is_an_audio_error_without_its_path(tmp_path: Path) -> None:
    _fails(tmp_path / "gone.wav", AudioError, 400, "invalid_audio")
